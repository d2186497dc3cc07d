import { join } from "node:path";
import type { CellResult, MimeBundle } from "../../protocol/context";

const FILE_TYPES: Record<string, { ext: string; binary: boolean }> = {
  "image/png": { ext: "png", binary: true },
  "image/jpeg": { ext: "jpg", binary: true },
  "image/svg+xml": { ext: "svg", binary: false },
  "text/html": { ext: "html", binary: false },
};

/** Where a repl writes what a terminal cannot show. */
export interface ResultSink {
  dir: string;
  writeFile(path: string, data: Uint8Array | string): void;
}

/**
 * A rich result as terminal text: `text/plain`, and for an image (or HTML without an image) the
 * path of the file it was saved to. `n` numbers the files of one repl session.
 */
export function renderBundle(bundle: MimeBundle, n: number, sink: ResultSink): string {
  const lines: string[] = [];
  const image = ["image/png", "image/jpeg", "image/svg+xml"].find((mime) => bundle[mime as keyof MimeBundle]);
  const saved = image ?? (bundle["text/html"] ? "text/html" : undefined);
  if (saved) {
    const type = FILE_TYPES[saved]!;
    const path = join(sink.dir, `result-${n}.${type.ext}`);
    const value = bundle[saved as keyof MimeBundle]!;
    sink.writeFile(path, type.binary ? Buffer.from(value, "base64") : value);
    if (!image) lines.push(bundle["text/plain"]);
    lines.push(`[${saved} saved to ${path}]`);
  } else {
    lines.push(bundle["text/plain"]);
  }
  return `${lines.join("\n")}\n`;
}

/** The end of a cell in words, for stderr: the error's traceback, an interrupt, a lost context. */
export function renderEnd(result: CellResult): string {
  const lines: string[] = [];
  if (result.error) lines.push(result.error.traceback.trimEnd() || `${result.error.name}: ${result.error.value}`);
  if (result.contextLost) lines.push(`isol8: the context was lost (${result.contextLost.reason}); its state is gone — type :restart`);
  const cut = Object.entries(result.truncated).filter(([, hit]) => hit).map(([name]) => name);
  if (cut.length) lines.push(`isol8: ${cut.join(", ")} cut at the limit`);
  return lines.length ? `${lines.join("\n")}\n` : "";
}
