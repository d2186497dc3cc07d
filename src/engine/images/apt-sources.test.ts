import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findMirror, parseAptSources, readHostAptSources, sourcesListFor, suiteSources } from "./apt-sources";

const MIRROR = "http://mirror.example.test/debian";
const SECURITY = "http://security.example.test/debian-security";
const OTHER = "https://other.example.test/debian";

describe("parseAptSources: one-line format", () => {
  test("a plain entry", () => {
    expect(parseAptSources(`deb ${MIRROR} bookworm main contrib\n`)).toEqual([
      { uri: MIRROR, suites: ["bookworm"], components: ["main", "contrib"] },
    ]);
  });

  test("options in brackets, tabs and extra spaces", () => {
    const text = `deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg]  ${MIRROR}\tbookworm   main\n`;
    expect(parseAptSources(text)).toEqual([{ uri: MIRROR, suites: ["bookworm"], components: ["main"] }]);
  });

  test("comments, commented-out entries and deb-src are ignored", () => {
    const text = [
      "# the mirror",
      `# deb ${OTHER} bookworm main`,
      `deb ${MIRROR} bookworm main # trailing comment`,
      `deb-src ${MIRROR} bookworm main`,
      "",
      `   deb ${SECURITY} bookworm-security main`,
    ].join("\n");
    expect(parseAptSources(text)).toEqual([
      { uri: MIRROR, suites: ["bookworm"], components: ["main"] },
      { uri: SECURITY, suites: ["bookworm-security"], components: ["main"] },
    ]);
  });

  test("an entry without components", () => {
    expect(parseAptSources(`deb ${MIRROR} bookworm`)).toEqual([{ uri: MIRROR, suites: ["bookworm"], components: [] }]);
  });

  test("CRLF line endings", () => {
    expect(parseAptSources(`deb ${MIRROR} bookworm main\r\ndeb ${OTHER} trixie main\r\n`)).toEqual([
      { uri: MIRROR, suites: ["bookworm"], components: ["main"] },
      { uri: OTHER, suites: ["trixie"], components: ["main"] },
    ]);
  });
});

describe("parseAptSources: deb822 format", () => {
  test("stanzas with several suites", () => {
    const text = [
      "Types: deb",
      `URIs: ${MIRROR}`,
      "Suites: bookworm bookworm-updates",
      "Components: main",
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
      "",
      "Types: deb",
      `URIs: ${SECURITY}`,
      "Suites: bookworm-security",
      "Components: main",
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
      "",
    ].join("\n");
    expect(parseAptSources(text)).toEqual([
      { uri: MIRROR, suites: ["bookworm", "bookworm-updates"], components: ["main"] },
      { uri: SECURITY, suites: ["bookworm-security"], components: ["main"] },
    ]);
  });

  test("several URIs in one stanza give one source each", () => {
    const text = `Types: deb\nURIs: ${MIRROR} ${OTHER}\nSuites: bookworm\nComponents: main contrib\n`;
    expect(parseAptSources(text)).toEqual([
      { uri: MIRROR, suites: ["bookworm"], components: ["main", "contrib"] },
      { uri: OTHER, suites: ["bookworm"], components: ["main", "contrib"] },
    ]);
  });

  test("field names are case-insensitive; comments are ignored", () => {
    const text = `# main mirror\ntypes: deb\nuris: ${MIRROR} # the one\nsuites: bookworm\n# Components: contrib\ncomponents: main\n`;
    expect(parseAptSources(text)).toEqual([{ uri: MIRROR, suites: ["bookworm"], components: ["main"] }]);
  });

  test("deb-src-only and disabled stanzas are skipped; deb deb-src is kept", () => {
    const text = [
      `Types: deb-src\nURIs: ${OTHER}\nSuites: bookworm\nComponents: main`,
      `Types: deb\nURIs: ${OTHER}\nSuites: bookworm\nComponents: main\nEnabled: no`,
      `Types: deb deb-src\nURIs: ${MIRROR}\nSuites: bookworm\nComponents: main`,
    ].join("\n\n");
    expect(parseAptSources(text)).toEqual([{ uri: MIRROR, suites: ["bookworm"], components: ["main"] }]);
  });

  test("stanzas separated by a line of spaces", () => {
    const text = `Types: deb\nURIs: ${MIRROR}\nSuites: bookworm\n   \nTypes: deb\nURIs: ${OTHER}\nSuites: trixie\n`;
    expect(parseAptSources(text).map((s) => s.uri)).toEqual([MIRROR, OTHER]);
  });

  test("an embedded Signed-By key block does not break the stanza", () => {
    const text = [
      "Types: deb",
      `URIs: ${MIRROR}`,
      "Suites: bookworm",
      "Components: main",
      "Signed-By:",
      " -----BEGIN PGP PUBLIC KEY BLOCK-----",
      " Comment: Suites: fake",
      " .",
      " mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gIvuKDNcO",
      " -----END PGP PUBLIC KEY BLOCK-----",
    ].join("\n");
    expect(parseAptSources(text)).toEqual([{ uri: MIRROR, suites: ["bookworm"], components: ["main"] }]);
  });

  test("a stanza without URIs or Suites is ignored", () => {
    expect(parseAptSources(`Types: deb\nURIs: ${MIRROR}\n\nTypes: deb\nSuites: bookworm\n`)).toEqual([]);
  });
});

describe("findMirror", () => {
  const sources = parseAptSources(
    [
      `deb ${SECURITY} bookworm-security main`,
      `deb ${OTHER} bookworm contrib non-free`,
      `deb ${MIRROR} bookworm main`,
      `deb ${OTHER} trixie main`,
    ].join("\n"),
  );

  test("picks the mirror serving the suite with main", () => {
    expect(findMirror(sources, "bookworm")).toBe(MIRROR);
    expect(findMirror(sources, "trixie")).toBe(OTHER);
  });

  test("never picks a security or updates suite as the mirror", () => {
    const only = parseAptSources(`deb ${SECURITY} bookworm-security main\ndeb ${OTHER} bookworm-updates main\n`);
    expect(findMirror(only, "bookworm")).toBeUndefined();
  });

  test("a source without components counts as serving main", () => {
    expect(findMirror(parseAptSources(`deb ${MIRROR} bookworm`), "bookworm")).toBe(MIRROR);
  });

  test("from deb822 sources", () => {
    const text = `Types: deb\nURIs: ${SECURITY}\nSuites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: ${MIRROR}\nSuites: bookworm bookworm-updates\nComponents: main\n`;
    expect(findMirror(parseAptSources(text), "bookworm")).toBe(MIRROR);
  });

  test("no source for the suite", () => {
    expect(findMirror(sources, "bullseye")).toBeUndefined();
    expect(findMirror([], "bookworm")).toBeUndefined();
  });
});

describe("suiteSources and sourcesListFor", () => {
  const sources = [
    ...parseAptSources(`Types: deb\nURIs: ${MIRROR}\nSuites: bookworm bookworm-updates trixie\nComponents: main\n`),
    ...parseAptSources(
      [
        `deb ${SECURITY} bookworm-security main`,
        `deb ${OTHER} trixie main`,
        `deb ${OTHER} bookwormish main`,
        `deb ${OTHER} bookworm`,
      ].join("\n"),
    ),
  ];

  test("keeps only the suite family", () => {
    expect(suiteSources(sources, "bookworm")).toEqual([
      { uri: MIRROR, suites: ["bookworm", "bookworm-updates"], components: ["main"] },
      { uri: SECURITY, suites: ["bookworm-security"], components: ["main"] },
      { uri: OTHER, suites: ["bookworm"], components: [] },
    ]);
  });

  test("writes one-line entries, main when no components were given", () => {
    expect(sourcesListFor(sources, "bookworm")).toBe(
      `deb ${MIRROR} bookworm bookworm-updates main\ndeb ${SECURITY} bookworm-security main\ndeb ${OTHER} bookworm main\n`,
    );
  });
});

describe("readHostAptSources", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test("reads sources.list and the .list/.sources files of sources.list.d, in name order", () => {
    const root = mkdtempSync(join(tmpdir(), "isol8-apt-"));
    dirs.push(root);
    mkdirSync(join(root, "sources.list.d"));
    writeFileSync(join(root, "sources.list"), `deb ${OTHER} trixie main\n`);
    writeFileSync(join(root, "sources.list.d", "b.sources"), `Types: deb\nURIs: ${MIRROR}\nSuites: bookworm\nComponents: main\n`);
    writeFileSync(join(root, "sources.list.d", "a.list"), `deb ${SECURITY} bookworm-security main\n`);
    writeFileSync(join(root, "sources.list.d", "c.list.disabled"), `deb ${OTHER} bookworm main\n`);
    expect(readHostAptSources(root).map((s) => s.uri)).toEqual([OTHER, SECURITY, MIRROR]);
    expect(findMirror(readHostAptSources(root), "bookworm")).toBe(MIRROR);
  });

  test("a missing directory gives no sources", () => {
    expect(readHostAptSources(join(tmpdir(), "isol8-no-such-apt-dir"))).toEqual([]);
  });
});
