import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** Parses one-line (`deb URI suite comp...`) and deb822 (`URIs:`/`Suites:`) apt source text. */
export function parseAptSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) sources.push({ uri: m[1]!, suites: [m[2]!], components: m[3]!.split(/\s+/).filter(Boolean) });
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const raw of stanza.split("\n")) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw.replace(/#.*/, "").trimEnd());
      if (m) fields[m[1]!.toLowerCase()] = m[2]!;
    }
    if (!fields.uris || !fields.suites) continue;
    if (fields.types && !fields.types.split(/\s+/).includes("deb")) continue;
    if (fields.enabled === "no") continue;
    for (const uri of fields.uris.split(/\s+/).filter(Boolean)) {
      sources.push({
        uri,
        suites: fields.suites.split(/\s+/).filter(Boolean),
        components: (fields.components ?? "").split(/\s+/).filter(Boolean),
      });
    }
  }
  return sources;
}

/** Sources of a Debian suite family (`bookworm`, `bookworm-updates`, `bookworm-security`, ...). */
export function suiteSources(sources: AptSource[], suite: string): AptSource[] {
  return sources
    .map((s) => ({ ...s, suites: s.suites.filter((x) => x === suite || x.startsWith(`${suite}-`)) }))
    .filter((s) => s.suites.length > 0);
}

/** The mirror that serves `suite` itself (with `main`), as debootstrap needs it. */
export function findMirror(sources: AptSource[], suite: string): string | undefined {
  return sources.find((s) => s.suites.includes(suite) && (s.components.length === 0 || s.components.includes("main")))
    ?.uri;
}

/** Reads the host's apt sources (sources.list and sources.list.d). */
export function readHostAptSources(root = "/etc/apt"): AptSource[] {
  const texts: string[] = [];
  try {
    texts.push(readFileSync(join(root, "sources.list"), "utf8"));
  } catch {}
  try {
    for (const name of readdirSync(join(root, "sources.list.d")).sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) {
        try {
          texts.push(readFileSync(join(root, "sources.list.d", name), "utf8"));
        } catch {}
      }
    }
  } catch {}
  return texts.flatMap(parseAptSources);
}

/** sources.list text for the built base image: the host's entries for the suite family. */
export function sourcesListFor(sources: AptSource[], suite: string): string {
  return suiteSources(sources, suite)
    .map((s) => `deb ${s.uri} ${s.suites.join(" ")} ${s.components.length ? s.components.join(" ") : "main"}\n`)
    .join("");
}
