import type { ConsolaInstance } from "consola";
import { nodeStream } from "./std-streams";

/** Logs go to stderr (stdout carries the program's output or the server's URL); made at the first line logged. */
let logger: ConsolaInstance | undefined;

/** Engine and server log lines on stderr. */
export async function stderrLogger(): Promise<(line: string) => void> {
  const { createConsola } = await import("consola");
  logger ??= createConsola({ stdout: nodeStream("stderr"), stderr: nodeStream("stderr"), formatOptions: { date: false } }).withTag("isol8");
  const made = logger;
  return (line) => made.log(line);
}
