/**
 * An upper estimate of the program an RE2 pattern compiles to, read from its text before
 * compiling it. Matching with RE2 is linear in the host's length, but compiling is linear
 * in the program's size, and counted repetitions multiply it: `(?:a{1,999}){…}` repeated
 * a few dozen times is ~100k instructions and half a second of compiling on the event loop.
 * So a pattern is sized first and refused when too large, and only then compiled.
 *
 * The count follows RE2's own size rule (a literal or class is 1, `x{n,m}` is
 * `m·size(x) + (m−n)`, `x*` is `size(x)+2`, …). Where the text could be read two ways, the
 * reading that counts MORE is taken, so the estimate never falls below what RE2 builds for
 * a valid pattern; invalid patterns are refused by RE2's parser, which is cheap.
 */

/** One open group (or the whole pattern): its finished branches and the one being read. */
interface Frame {
  branches: number[];
  /** Sizes of the atoms of the current branch; the last one is what a repetition applies to. */
  atoms: number[];
  capture: boolean;
}

const REPEAT = /^\{([0-9]{1,4})(,([0-9]{0,4}))?\}/;

/** The estimated instruction count of an RE2 pattern (at least 1). */
export function estimateRegexSize(pattern: string): number {
  const stack: Frame[] = [{ branches: [], atoms: [], capture: false }];
  const top = () => stack[stack.length - 1]!;
  const atom = (size: number) => top().atoms.push(size);
  const repeatLast = (apply: (sub: number) => number) => {
    const atoms = top().atoms;
    const sub = atoms.pop() ?? 1; // a repetition with nothing before it is a syntax error: count it anyway
    atoms.push(apply(sub));
  };
  const closeFrame = (frame: Frame): number => {
    const branches = [...frame.branches, sum(frame.atoms)];
    return sum(branches) + (branches.length - 1) + (frame.capture ? 2 : 0);
  };

  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const literal = end === -1 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        for (let k = 0; k < literal.length; k++) atom(1);
        i = end === -1 ? pattern.length : end + 2;
        continue;
      }
      // \x{…}, \p{…}, \P{…}: one atom up to the closing brace; any other escape is one atom of two characters.
      if ("xpP".includes(next) && pattern[i + 2] === "{") {
        const close = pattern.indexOf("}", i + 3);
        i = close === -1 ? pattern.length : close + 1;
      } else {
        i += next === "x" ? 4 : next === "p" || next === "P" ? 3 : 2;
      }
      atom(1);
      continue;
    }
    if (c === "[") {
      i = classEnd(pattern, i);
      atom(1);
      continue;
    }
    if (c === "(") {
      const flagsOnly = /^\(\?[a-zA-Z-]*\)/.exec(pattern.slice(i));
      if (flagsOnly) {
        i += flagsOnly[0].length; // (?i) sets flags, builds nothing
        continue;
      }
      const capture = !pattern.startsWith("(?", i) || /^\(\?P?</.test(pattern.slice(i));
      stack.push({ branches: [], atoms: [], capture });
      const open = /^\(\?(?:P?<[^>]*>|[a-zA-Z-]*:)?/.exec(pattern.slice(i))?.[0] ?? "(";
      i += Math.max(1, open.length);
      continue;
    }
    if (c === ")") {
      if (stack.length > 1) atom(closeFrame(stack.pop()!));
      i++;
      continue;
    }
    if (c === "|") {
      const frame = top();
      frame.branches.push(sum(frame.atoms));
      frame.atoms = [];
      i++;
      continue;
    }
    if (c === "*" || c === "+" || c === "?") {
      repeatLast((sub) => sub + 2);
      i += pattern[i + 1] === "?" ? 2 : 1; // a lazy marker builds nothing more
      continue;
    }
    if (c === "{") {
      const repeat = REPEAT.exec(pattern.slice(i));
      if (repeat) {
        const min = Number(repeat[1]);
        const max = repeat[2] === undefined ? min : repeat[3] === "" ? -1 : Number(repeat[3]);
        repeatLast((sub) => (max === -1 ? Math.max(min, 1) * sub + 2 : Math.max(max, 1) * sub + Math.max(max - min, 0)));
        i += repeat[0].length;
        i += pattern[i] === "?" ? 1 : 0;
        continue;
      }
    }
    atom(1); // a literal character, `.`, `^`, `$`, or a `{` that is not a repetition
    i += c.length;
  }
  // Groups left open make the pattern invalid; counting them as closed still counts everything.
  while (stack.length > 1) atom(closeFrame(stack.pop()!));
  return Math.max(1, closeFrame(stack[0]!));
}

/**
 * Where a character class that starts at `start` ends (the index after its `]`). A `]` right
 * after `[` or `[^` belongs to the class, as in RE2. Ending at the FIRST other `]` (even
 * one closing `[:alpha:]`) can only make the rest count as more atoms, never fewer.
 */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  while (i < pattern.length) {
    if (pattern[i] === "\\") i += 2;
    else if (pattern[i] === "]") return i + 1;
    else i++;
  }
  return pattern.length;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
