/**
 * Makes program output safe for a terminal: control characters other than newline,
 * carriage return, tab and backspace are shown as visible escapes (`\x1b`), so a
 * program cannot drive the user's terminal (clipboard writes, screen clears, titles).
 */
export function sanitizeForTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
  return text.replace(/[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A writer for program output: sanitized when the destination is a terminal. */
export function outputWriter(stream: NodeJS.WriteStream): (text: string) => void {
  return stream.isTTY ? (text) => stream.write(sanitizeForTerminal(text)) : (text) => stream.write(text);
}
