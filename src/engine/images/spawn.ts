import { spawn } from "node:child_process";

/** Runs a host command, passing each output line on; resolves with the exit code and the last lines. */
export function runCommand(
  command: string,
  args: readonly string[],
  onLine: (line: string) => void = () => {},
): Promise<{ code: number; tail: string[] }> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine(line);
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (error) => resolve({ code: 127, tail: [...tail, error.message] }));
    child.on("close", (code) => resolve({ code: code ?? 1, tail }));
  });
}

export async function commandExists(command: string): Promise<boolean> {
  return (await runCommand("sh", ["-c", `command -v ${command}`])).code === 0;
}
