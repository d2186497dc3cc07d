// Self-update against a loopback release server serving releases 9.9.8 and 9.9.9 (latest)
// built and signed by build.ts: a copy of a compiled binary is replaced by the served one;
// a tampered download, or a release its key did not sign, never touches it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { createDockerClient } from "../../src/engine/docker";
import { sweepContainers } from "../../src/engine/cleanup";
import { LABEL_VERSION } from "../../src/engine/labels";
import { binaryVersion } from "../../src/update/binary-version";
import { ChecksumError } from "../../src/update/errors";
import { selfUpdate } from "../../src/update/self-update";
import { verifyChecksums } from "../../src/update/signature";
import { readSigningKey, signChecksums } from "../../src/update/signing-key";
import { BINARY, TEST_SCOPE } from "../helpers";
import { buildRelease, newSigningKey, type ReleaseServer, serveRelease, type TestSigningKey } from "./release-server";

const VERSION = "9.9.9";
const OLDER = "9.9.8";
const TARGET = `${process.platform}-${process.arch}`;
const BINARY_PATH = `/v${VERSION}/isol8-${TARGET}`;
const SUMS_PATH = `/v${VERSION}/SHA256SUMS`;
const SIGNATURE_PATH = `/v${VERSION}/SHA256SUMS.sig`;
let release: string;
let server: ReleaseServer;
let work: string;
let key: TestSigningKey;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-update-"));
  key = newSigningKey(work);
  release = buildRelease(VERSION, key);
  // An older signed build in the same tree: the installed binary of the serve --update tests
  // (it trusts the key, as a real install trusts the project's). `latest` stays at 9.9.9.
  buildRelease(OLDER, key, release);
  server = serveRelease(release);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  rmSync(release, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** A copy of `from` (default dist/isol8) in its own directory (mode 0750, to see that permissions survive). */
function installedCopy(name: string, from = BINARY): string {
  const dir = join(work, name);
  const exe = join(dir, "isol8");
  mkdirSync(dir);
  copyFileSync(from, exe);
  chmodSync(exe, 0o750);
  return exe;
}

/** The served 9.9.8 binary: a signed build that trusts the test key. */
const olderBinary = () => join(release, `v${OLDER}`, `isol8-${TARGET}`);

describe("self-update", () => {
  test("the release tree has the documented layout", () => {
    const manifest = JSON.parse(readFileSync(join(release, "latest", "manifest.json"), "utf8"));
    expect(manifest.version).toBe(VERSION);
    const target = `${process.platform}-${process.arch}`;
    expect(manifest.files[target]).toEqual({ file: `isol8-${target}`, sha256: sha256(join(release, BINARY_PATH)) });
    const sums = readFileSync(join(release, `v${VERSION}`, "SHA256SUMS"), "utf8");
    expect(sums).toContain(`${manifest.files[target].sha256}  isol8-${target}\n`);
    expect(readFileSync(join(release, `v${VERSION}`, "manifest.json"), "utf8")).toBe(readFileSync(join(release, "latest", "manifest.json"), "utf8"));
    expect(JSON.parse(readFileSync(join(release, `v${OLDER}`, "manifest.json"), "utf8")).version).toBe(OLDER);
  });

  test("SHA256SUMS.sig signs this version's SHA256SUMS with the release key", () => {
    const signatures = readFileSync(join(release, SIGNATURE_PATH), "utf8");
    expect(signatures).toStartWith(`ed25519 ${key.publicKey} `);
    const verify = (version: string) => () =>
      verifyChecksums({ version, sums: readFileSync(join(release, SUMS_PATH), "utf8"), signatures, trustedKeys: [key.publicKey], sumsSource: SUMS_PATH, signatureSource: SIGNATURE_PATH });
    expect(verify(VERSION)).not.toThrow();
    expect(verify(OLDER)).toThrow(`Cannot verify release "${OLDER}": the signature by`);
  });

  test("the release embeds the public key and holds no private key material", () => {
    const pem = readFileSync(key.path, "utf8");
    const seed = readSigningKey(key.path).privateKey.export({ format: "jwk" }).d!;
    const secrets = [Buffer.from(pem.split("\n")[1]!), Buffer.from(seed, "base64url"), Buffer.from(seed)];
    for (const name of readdirSync(join(release, `v${VERSION}`))) {
      const bytes = readFileSync(join(release, `v${VERSION}`, name));
      expect([name, secrets.map((secret) => bytes.includes(secret))]).toEqual([name, [false, false, false]]);
    }
    for (const name of [`isol8-${TARGET}`, "launcher.cjs"]) {
      expect([name, readFileSync(join(release, `v${VERSION}`, name)).includes(key.publicKey)]).toEqual([name, true]);
    }
  });

  test("replaces a copied binary with the served version, keeping its permissions", async () => {
    const exe = installedCopy("ok");
    expect(binaryVersion(exe)).toBe(pkg.version);
    const result = await selfUpdate({ baseUrl: server.url, currentVersion: pkg.version, executablePath: exe, trustedKeys: [key.publicKey] });
    expect(result).toEqual({ updated: true, from: pkg.version, to: VERSION, latest: VERSION });
    expect(binaryVersion(exe)).toBe(VERSION);
    expect(sha256(exe)).toBe(sha256(join(release, BINARY_PATH)));
    expect(statSync(exe).mode & 0o777).toBe(0o750);
    expect(readdirSync(join(exe, ".."))).toEqual(["isol8"]);
  });

  test("already at the latest version: nothing is downloaded", async () => {
    const exe = installedCopy("current");
    const before = server.requests.length;
    const result = await selfUpdate({ baseUrl: server.url, currentVersion: VERSION, executablePath: exe, trustedKeys: [key.publicKey] });
    expect(result.updated).toBe(false);
    expect(server.requests.slice(before)).toEqual(["/latest/manifest.json"]);
    expect(binaryVersion(exe)).toBe(pkg.version);
  });

  test("a tampered binary is refused and the installed one is untouched", async () => {
    const exe = installedCopy("tampered");
    const original = sha256(exe);
    const evil = readFileSync(join(release, BINARY_PATH));
    evil.writeUInt8(evil.readUInt8(evil.length - 1) ^ 1, evil.length - 1);
    server.override(BINARY_PATH, () => new Response(evil));
    try {
      const error = await selfUpdate({ baseUrl: server.url, currentVersion: pkg.version, executablePath: exe, trustedKeys: [key.publicKey] }).catch((e) => e);
      expect(error).toBeInstanceOf(ChecksumError);
      expect(error.message).toContain(`Cannot install "${server.url}${BINARY_PATH}"`);
    } finally {
      server.override(BINARY_PATH, undefined);
    }
    expect(sha256(exe)).toBe(original);
    expect(binaryVersion(exe)).toBe(pkg.version);
    expect(readdirSync(join(exe, ".."))).toEqual(["isol8"]);
  });
});

/** Reads `stream` until a line matches `pattern`; resolves with the first capture group. */
async function lineMatching(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no line matching ${pattern} in:\n${text}`);
      text += decoder.decode(value, { stream: true });
      const match = text.split("\n").map((line) => pattern.exec(line)).find(Boolean);
      if (match) return match[1]!;
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

describe("isol8 serve --update", () => {
  test("moves a running install to the served version, then serves as it", async () => {
    const exe = installedCopy("serve", olderBinary());
    expect(binaryVersion(exe)).toBe(OLDER);
    const proc = Bun.spawn([exe, "serve", "--update", "--port", "0", "--key", "k", "--hostname", "127.0.0.1"], {
      // HOME: the server's key store (~/.isol8/server/keys.db) goes to the scratch directory.
      env: { ...process.env, NO_COLOR: "1", ISOL8_RELEASE_URL: server.url, ISOL8_SCOPE: TEST_SCOPE, HOME: work },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const url = await lineMatching(proc.stdout, /^isol8 (http:\/\/\S+)/, 90_000);
      expect(binaryVersion(exe)).toBe(VERSION);
      const health = (await (await fetch(`${url}/health`)).json()) as { version: string };
      expect(health.version).toBe(VERSION);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await proc.exited;
      // A SIGTERM this early can land while the pool is still pre-warming; whatever the
      // served 9.9.9 build left is removed here (its own cleanup is the server tests' subject).
      await sweepContainers(createDockerClient(), { scope: TEST_SCOPE }, (c) => c.labels[LABEL_VERSION] === VERSION);
    }
  }, 120_000);
});

/** Serves `files` (path → body; null: 404) instead of the release's own while `body` runs. */
async function withServed<T>(files: Record<string, string | Uint8Array | null>, body: () => Promise<T>): Promise<T> {
  for (const [path, content] of Object.entries(files)) {
    server.override(path, () => (content === null ? new Response("not found", { status: 404 }) : new Response(content)));
  }
  try {
    return await body();
  } finally {
    for (const path of Object.keys(files)) server.override(path, undefined);
  }
}

/**
 * `exe serve --update` against the loopback release server. A refusal ends it at once;
 * should it serve instead, SIGTERM (passed on to the re-executed server) stops both
 * after 20 s, and the test fails on what it printed.
 */
async function serveUpdate(exe: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([exe, "serve", "--update", "--port", "0", "--key", "k", "--hostname", "127.0.0.1"], {
    env: { ...process.env, NO_COLOR: "1", ISOL8_RELEASE_URL: server.url, ISOL8_SCOPE: TEST_SCOPE, HOME: work },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGTERM"), 20_000);
  try {
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { code: await proc.exited, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

describe("isol8 serve --update: signed releases", () => {
  // A binary that would pass every other check: it reports the expected version.
  const evil = `#!/bin/sh\necho ${VERSION}\n`;
  const evilSums = () => readFileSync(join(release, SUMS_PATH), "utf8").replace(/^[0-9a-f]{64}(?=  isol8-)/m, sha256Text(evil));
  const evilManifest = () => JSON.stringify({ version: VERSION, files: { [TARGET]: { file: `isol8-${TARGET}`, sha256: sha256Text(evil) } } });

  // Each row is a way to make serve --update install what the release's key did not sign.
  test.each<[string, () => Record<string, string | null>, string]>([
    [
      "binary, SHA256SUMS and manifests replaced, hashes recomputed, old signature kept",
      () => ({ [BINARY_PATH]: evil, [SUMS_PATH]: evilSums(), "/latest/manifest.json": evilManifest(), [`/v${VERSION}/manifest.json`]: evilManifest() }),
      "the signature by",
    ],
    [
      "binary and SHA256SUMS replaced, re-signed with a key the binary does not trust",
      () => {
        const other = readSigningKey(newSigningKey(work, `other-${Math.random().toString(36).slice(2)}.pem`).path);
        return { [BINARY_PATH]: evil, [SUMS_PATH]: evilSums(), [SIGNATURE_PATH]: signChecksums(VERSION, evilSums(), [other]) };
      },
      "it is signed only by",
    ],
    ["signature file missing", () => ({ [SIGNATURE_PATH]: null }), "it has no signature"],
  ])("refused: the binary is untouched, never downloaded, and nothing is served: %s", async (name, files, state) => {
    const exe = installedCopy(`refused-${name.split(" ")[0]}-${Math.random().toString(36).slice(2)}`, olderBinary());
    const original = readFileSync(exe);
    const before = server.requests.length;
    const r = await withServed(files(), () => serveUpdate(exe));
    expect(r.stderr).toContain(`isol8: Cannot verify release "${VERSION}": ${state}`);
    expect(r.stderr).toContain("hint: ");
    expect(r.stdout).toBe("");
    expect(r.code).toBe(125);
    expect(server.requests.slice(before)).not.toContain(BINARY_PATH);
    expect(readFileSync(exe)).toEqual(original);
    expect(readdirSync(join(exe, ".."))).toEqual(["isol8"]);
  }, 60_000);

  test("a build that does not trust the release's key (npm run build) refuses it in one line and a hint", async () => {
    const exe = installedCopy("plain-build");
    const original = readFileSync(exe);
    const r = await serveUpdate(exe);
    const [message, hint, ...rest] = r.stderr.split("\n").filter((line) => !/ checking \S+ for a newer isol8 /.test(line));
    expect(message).toMatch(new RegExp(`^isol8: Cannot verify release "${VERSION}": (this build trusts no release signing key|it is signed only by "${key.publicKey.replace(/[+/]/g, "\\$&")}", which this build does not trust)$`));
    expect(hint).toStartWith("hint: ");
    expect(rest.filter(Boolean)).toEqual([]);
    expect(r.code).toBe(125);
    expect(readFileSync(exe)).toEqual(original);
  }, 60_000);
});

function sha256Text(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
