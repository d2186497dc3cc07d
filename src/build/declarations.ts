// Makes tsc's declaration output resolvable by every consumer: `moduleResolution` NodeNext and
// Node16 need the full file name of each relative import (`./engine.js`, `./dir/index.js`),
// which our source (written for the bundler) leaves out. Pure text rewriting; build.ts applies it.

/** Relative specifiers in `from "..."`, `import("...")` and `export * from "..."` of a declaration file. */
const SPECIFIER = /(\bfrom\s+|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"']*)\2/g;

/**
 * The declaration text with every relative specifier given its file: `./x` → `./x.js` when
 * `x.d.ts` exists, `./x/index.js` when `x/index.d.ts` does; a `.js`/`.json` specifier is kept.
 * `exists(specifier)` answers whether a declaration file is there, relative to this file.
 */
export function withFileExtensions(text: string, exists: (relativeDts: string) => boolean): string {
  return text.replace(SPECIFIER, (whole, lead: string, quote: string, spec: string) => {
    if (/\.(c|m)?js$|\.json$/.test(spec)) return whole;
    if (exists(`${spec}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
    if (exists(`${spec}/index.d.ts`)) return `${lead}${quote}${spec}/index.js${quote}`;
    throw new Error(`Cannot resolve "${spec}" in a declaration file: no ${spec}.d.ts or ${spec}/index.d.ts`);
  });
}
