import { createConsola } from "consola";

/** Logs go to stderr (stdout carries the program's output or the server's URL). */
const logger = createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { date: false } }).withTag("isol8");

/** Engine and server log lines on stderr. */
export function stderrLog(line: string): void {
  logger.log(line);
}
