/**
 * Makes program output safe for a terminal: control characters other than newline,
 * carriage return, tab and backspace are shown as visible escapes (`\x1b`), so a
 * program cannot drive the user's terminal (clipboard writes, screen clears, titles).
 */
export function sanitizeForTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
  return text.replace(/[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Writes one piece of program output: its text, and its exact bytes when they are not valid UTF-8. */
export type OutputWriter = (text: string, bytes?: Uint8Array) => void;

/**
 * A writer for program output. Pipes and files get the program's exact bytes. A terminal gets
 * the text with control characters made visible, unless `raw` (`isol8 run --raw`): then the
 * exact bytes too.
 */
export function outputWriter(stream: { isTTY?: boolean; write(data: string | Uint8Array): unknown }, options: { raw?: boolean } = {}): OutputWriter {
  if (stream.isTTY && !options.raw) return (text) => void stream.write(sanitizeForTerminal(text));
  return (text, bytes) => void stream.write(bytes ?? text);
}
