// Whether isol8's own output (help, messages) may carry colour and other escape sequences.
// Program output is a different matter: see terminal.ts.

/**
 * Colour for a stream: `FORCE_COLOR` (any value but "0" or "false") turns it on, `NO_COLOR`
 * (any non-empty value, https://no-color.org) turns it off, otherwise only on a terminal whose
 * TERM is not "dumb". Pure.
 */
export function useColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what it removes
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g;

/** The text without CSI (colours, cursor moves) and OSC sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** `text` as it may be written to `stream`: escape sequences removed unless colour is on. */
export function forStream(text: string, stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): string {
  return useColor(stream, env) ? text : stripAnsi(text);
}
