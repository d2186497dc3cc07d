/** Engine debug lines on stderr, so stdout keeps carrying only the program's output. */
export function stderrLog(line: string): void {
  process.stderr.write(`[isol8] ${line}\n`);
}
