// Splits repl input lines into cells: a line is a cell unless it opens a block or a bracket,
// like an interactive interpreter's prompt. Pure: the repl feeds lines, gets cells back.

/** What the reader knows of the language: which lines keep a cell open. */
export interface CellSyntax {
  /** A line that opens a block whose body follows (python `if x:`; bash `for ...; do`). */
  opensBlock(line: string): boolean;
  /** A line that continues an open block at its own indentation (python `else:`; bash `done`). */
  continuesBlock(line: string): boolean;
}

const PYTHON: CellSyntax = {
  opensBlock: (line) => /:\s*(#.*)?$/.test(line) || line.trimEnd().endsWith("\\"),
  continuesBlock: (line) => /^(else|elif|except|finally|case)\b/.test(line),
};

const BASH: CellSyntax = {
  opensBlock: (line) => /(\bdo|\bthen|\{|\\)\s*$/.test(line.trimEnd()) || /^\s*(case|if|for|while|until)\b/.test(line) && !/\b(done|fi|esac)\b/.test(line),
  continuesBlock: (line) => /^(done|fi|esac|else|elif|\}|then|do)\b/.test(line.trim()),
};

const JS: CellSyntax = {
  opensBlock: (line) => line.trimEnd().endsWith("\\"),
  continuesBlock: (line) => /^[}\])]/.test(line.trim()),
};

export function cellSyntax(runtime: string): CellSyntax {
  return runtime === "python" ? PYTHON : runtime === "bash" ? BASH : JS;
}

/** Unclosed (, [ and { in the text, ignoring those inside simple quotes. */
export function openBrackets(text: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "#" && (text[i - 1] === undefined || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf("\n", i);
      if (end < 0) break;
      i = end;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth = Math.max(0, depth - 1);
  }
  return depth;
}

/**
 * Feeds lines, returns the cells they complete. A block ends at a blank line, or at a line
 * back at column 0 that does not continue it (that line then starts the next cell).
 */
export class CellReader {
  private lines: string[] = [];
  private inBlock = false;

  constructor(private readonly syntax: CellSyntax) {}

  /** True while a cell is open (the prompt shows continuation). */
  get pending(): boolean {
    return this.lines.length > 0;
  }

  push(line: string): string[] {
    const cells: string[] = [];
    if (this.inBlock && line.trim() !== "" && !/^\s/.test(line) && !this.syntax.continuesBlock(line) && openBrackets(this.lines.join("\n")) === 0) {
      cells.push(...this.flush());
    }
    if (line.trim() === "" && this.lines.length && openBrackets(this.lines.join("\n")) === 0) return [...cells, ...this.flush()];
    if (line.trim() === "" && !this.lines.length) return cells;
    this.lines.push(line);
    if (this.syntax.opensBlock(line)) this.inBlock = true;
    if (!this.inBlock && openBrackets(this.lines.join("\n")) === 0) cells.push(...this.flush());
    return cells;
  }

  /** The open cell at the end of input. */
  end(): string[] {
    return this.flush();
  }

  private flush(): string[] {
    const cell = this.lines.join("\n");
    this.lines = [];
    this.inBlock = false;
    return cell.trim() ? [cell] : [];
  }
}
