import type { ImageProgress } from "../engine/images/image-manager";
import { type OutputSink, standardError } from "./std-streams";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface ProgressRenderer {
  (event: ImageProgress): void;
  /** Clears the live line (call before other output and at the end). */
  done(): void;
}

/**
 * Renders image progress on stderr: a live spinner line per image on a TTY, plain
 * lines (state changes and decisions only) when piped. `verbose` adds build output.
 */
export function createProgressRenderer(
  stream: OutputSink = standardError(),
  { verbose = false, tty = Boolean(stream.isTTY) && !process.env.CI } = {},
): ProgressRenderer {
  const started = new Map<string, number>();
  let live = "";
  let frame = 0;
  let lastLine = "";
  let timer: ReturnType<typeof setInterval> | undefined;
  const seconds = (image: string) => ((performance.now() - (started.get(image) ?? performance.now())) / 1000).toFixed(1);
  const clear = () => {
    if (tty && live) stream.write("\r\x1b[2K");
  };
  const draw = () => {
    if (!tty || !live) return;
    const width = Math.max(20, (stream.columns ?? 100) - 2);
    const text = `${FRAMES[frame++ % FRAMES.length]} ${live} ${seconds(live)}s ${lastLine}`;
    stream.write(`\r\x1b[2K${text.slice(0, width)}`);
  };
  const print = (line: string) => {
    clear();
    stream.write(`${line}\n`);
    draw();
  };

  const render = ((event: ImageProgress) => {
    const { image } = event;
    if (event.message) print(`${image}: ${event.message}`);
    if (event.line) {
      lastLine = event.line.replace(/\s+/g, " ").trim();
      if (verbose) print(`  ${lastLine}`);
      else draw();
    }
    switch (event.state) {
      case "checking":
        started.set(image, performance.now());
        break;
      case "building":
        if (tty) {
          live = image;
          lastLine = "";
          timer ??= setInterval(draw, 100);
          timer.unref?.();
          draw();
        } else {
          print(`${image}: building`);
        }
        break;
      case "up-to-date":
        print(`${image}: up to date (${seconds(image)}s)`);
        break;
      case "built":
        if (live === image) {
          clear();
          live = "";
        }
        print(`${image}: built in ${seconds(image)}s`);
        break;
      case "failed":
        if (live === image) {
          clear();
          live = "";
        }
        break;
    }
  }) as ProgressRenderer;
  render.done = () => {
    clear();
    live = "";
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return render;
}
