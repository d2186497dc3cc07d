// The npm launcher (launcher.cjs, run by Node) against a loopback release server serving a
// release of version 9.9.9 built and signed by build.ts: install, version checks, refusals
// (checksums and signatures), pass-through.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import repositoryKeys from "../../src/update/release-keys.json" with { type: "json" };
import { readSigningKey, signChecksums } from "../../src/update/signing-key";
import { BINARY, ROOT } from "../helpers";
import { buildRelease, newSigningKey, type ReleaseServer, runAsync, serveRelease } from "./release-server";

const VERSION = "9.9.9";
const TARGET = `${process.platform}-${process.arch}`;
const BINARY_PATH = `/v${VERSION}/isol8-${TARGET}`;
const SUMS_PATH = `/v${VERSION}/SHA256SUMS`;
const SIGNATURE_PATH = `/v${VERSION}/SHA256SUMS.sig`;
let release: string;
let server: ReleaseServer;
let launcher: string;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "isol8-launcher-"));
  release = buildRelease(VERSION, newSigningKey(work));
  server = serveRelease(release);
  launcher = join(release, `v${VERSION}`, "launcher.cjs");
}, 180_000);

afterAll(async () => {
  await server?.stop();
  rmSync(release, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

let homes = 0;
/** A fresh, empty HOME; `bin()` is where the launcher keeps the binary there. */
function freshHome() {
  const home = join(work, `home-${++homes}`);
  mkdirSync(home);
  const dir = join(home, ".isol8", "bin");
  return { home, dir, bin: join(dir, "isol8") };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function launch(args: string[], home: string, env: Record<string, string> = {}, options: Parameters<typeof runAsync>[2] = {}) {
  return runAsync(["node", launcher, ...args], { PATH: process.env.PATH, HOME: home, NO_COLOR: "1", ISOL8_RELEASE_URL: server.url, ...env }, options);
}

/** A stand-in isol8 that reports `version`, exits with `exit <n>`, and on `wait` touches $READY and exits 42 on SIGTERM. */
function installScript(path: string, version: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(
    path,
    `#!/bin/sh
case "$1" in
  --version) echo ${version} ;;
  exit) echo "args: $*"; exit "$2" ;;
  wait) trap 'exit 42' TERM; touch "$READY"; while :; do sleep 0.05; done ;;
esac
`,
  );
  chmodSync(path, 0o755);
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await Bun.sleep(25);
  if (!existsSync(path)) throw new Error(`${path} never appeared`);
}

describe("launcher", () => {
  test("first run in an empty HOME downloads, verifies and installs the binary, then runs it", async () => {
    const { home, dir, bin } = freshHome();
    const before = server.requests.length;
    const r = await launch(["--version"], home);
    expect(r.stderr).toContain(`installed isol8 ${VERSION} at ${bin}`);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.code).toBe(0);
    expect(server.requests.slice(before)).toEqual([SUMS_PATH, SIGNATURE_PATH, BINARY_PATH]);
    expect(sha256(bin)).toBe(sha256(join(release, BINARY_PATH)));
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir)).toEqual(["isol8"]);

    // Installed and current: the next run downloads nothing and passes arguments, output and exit code through.
    const again = await launch(["frobnicate"], home);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('isol8: unknown command "frobnicate"\n');
    expect(server.requests.length).toBe(before + 3);
  });

  test("an installed binary of an older version is replaced by the launcher's version", async () => {
    const { home, bin } = freshHome();
    mkdirSync(join(bin, ".."), { recursive: true });
    copyFileSync(BINARY, bin);
    const r = await launch(["--version"], home);
    expect(r.stderr).toContain(`${bin} is isol8 ${pkg.version}; downloading isol8 ${VERSION}`);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(sha256(bin)).toBe(sha256(join(release, BINARY_PATH)));
  });

  test("an installed newer version is kept (e.g. after serve --update) and nothing is fetched", async () => {
    const { home, bin } = freshHome();
    installScript(bin, "10.0.0");
    const before = server.requests.length;
    const r = await launch(["exit", "7", "a b"], home);
    expect(r.stdout).toBe("args: exit 7 a b\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(7);
    expect(server.requests.length).toBe(before);
  });

  test("a tampered binary is refused: the installed one stays byte for byte, and runs", async () => {
    const { home, dir, bin } = freshHome();
    installScript(bin, "1.0.0");
    const original = readFileSync(bin);
    const good = readFileSync(join(release, BINARY_PATH));
    const evil = Buffer.concat([good, Buffer.from("tampered")]);
    server.override(BINARY_PATH, () => new Response(evil));
    try {
      const r = await launch(["exit", "3"], home);
      expect(r.stderr).toContain(`Cannot install "${server.url}${BINARY_PATH}": its SHA-256 is`);
      expect(r.stderr).toContain("running the installed isol8 1.0.0 instead of 9.9.9");
      expect(r.stdout).toBe("args: exit 3\n");
      expect(r.code).toBe(3);
    } finally {
      server.override(BINARY_PATH, undefined);
    }
    expect(readFileSync(bin)).toEqual(original);
    expect(readdirSync(dir)).toEqual(["isol8"]);
  });

  test("a release server that cannot be reached: the installed older binary runs, with a warning", async () => {
    const { home, bin } = freshHome();
    installScript(bin, "1.0.0");
    const r = await launch(["exit", "0"], home, { ISOL8_RELEASE_URL: "http://127.0.0.1:9" });
    expect(r.stderr).toContain('Cannot download "http://127.0.0.1:9/v9.9.9/SHA256SUMS"');
    expect(r.stdout).toBe("args: exit 0\n");
    expect(r.code).toBe(0);
  });

  test("an unsupported platform: one line naming it, exit 1, nothing fetched", async () => {
    const { home } = freshHome();
    const before = server.requests.length;
    const r = await launch(["--version"], home, { ISOL8_LAUNCHER_PLATFORM: "plan9-mips" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('isol8: unsupported platform "plan9-mips": isol8 binaries exist for linux-x64, linux-arm64, darwin-x64, darwin-arm64\n');
    expect(server.requests.length).toBe(before);
  });

  test("SIGTERM to the launcher reaches the binary, and its exit code comes back", async () => {
    const { home, bin } = freshHome();
    installScript(bin, VERSION);
    const ready = join(home, "ready");
    const r = await launch(["wait"], home, { READY: ready }, {
      onStart: async (proc) => {
        await waitFor(ready);
        proc.kill("SIGTERM");
      },
    });
    expect(r.code).toBe(42);
  });

  test("interrupting a download leaves no partial file", async () => {
    const { home, dir } = freshHome();
    // A body that sends 1 MiB, then stalls until the client goes away.
    server.override(BINARY_PATH, () => new Response(new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(1024 * 1024));
      },
    }), { headers: { "content-length": String(100 * 1024 * 1024) } }));
    try {
      const r = await launch(["--version"], home, {}, {
        onStart: async (proc) => {
          for (let i = 0; i < 400 && !(existsSync(dir) && readdirSync(dir).length); i++) await Bun.sleep(25);
          expect(readdirSync(dir)[0]).toStartWith(".isol8.download-");
          proc.kill("SIGINT");
        },
      });
      expect(r.signal).toBe("SIGINT");
    } finally {
      server.override(BINARY_PATH, undefined);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
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

describe("launcher: signed releases", () => {
  // A binary that would pass every other check: it reports the expected version.
  const evil = `#!/bin/sh\necho ${VERSION}\n`;
  const evilSums = () => readFileSync(join(release, SUMS_PATH), "utf8").replace(/^[0-9a-f]{64}(?=  isol8-)/m, createHash("sha256").update(evil).digest("hex"));

  // Each row is a way to make the launcher install what the release's key did not sign.
  const attacks: [string, () => Record<string, string | null>, string][] = [
    ["binary and SHA256SUMS replaced, hashes recomputed, old signature kept", () => ({ [BINARY_PATH]: evil, [SUMS_PATH]: evilSums() }), "the signature by"],
    ["SHA256SUMS replaced, binary kept (signature kept)", () => ({ [SUMS_PATH]: `${"0".repeat(64)}  isol8-${TARGET}\n` }), "the signature by"],
    [
      "binary and SHA256SUMS replaced, re-signed with a key the launcher does not trust",
      () => {
        const other = readSigningKey(newSigningKey(work, `other-${Math.random().toString(36).slice(2)}.pem`).path);
        return { [BINARY_PATH]: evil, [SUMS_PATH]: evilSums(), [SIGNATURE_PATH]: signChecksums(VERSION, evilSums(), [other]) };
      },
      "it is signed only by",
    ],
    ["signature file missing", () => ({ [SIGNATURE_PATH]: null }), "it has no signature"],
  ];

  test.each(attacks)("refused with nothing installed: exit 1, the binary is never downloaded: %s", async (_, files, state) => {
    const { home, dir, bin } = freshHome();
    const before = server.requests.length;
    const r = await withServed(files(), () => launch(["--version"], home));
    expect(r.stderr).toContain(`isol8: Cannot verify release "${VERSION}": ${state}`);
    expect(r.stderr).toContain("hint: ");
    expect(r.stdout).toBe("");
    expect(r.code).toBe(1);
    expect(server.requests.slice(before)).not.toContain(BINARY_PATH);
    expect(existsSync(bin)).toBe(false);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  test.each(attacks)("refused with an older binary installed: it stays byte for byte, and runs: %s", async (_, files, state) => {
    const { home, dir, bin } = freshHome();
    installScript(bin, "1.0.0");
    const original = readFileSync(bin);
    const r = await withServed(files(), () => launch(["exit", "4"], home));
    expect(r.stderr).toContain(`Cannot verify release "${VERSION}": ${state}`);
    expect(r.stderr).toContain(`running the installed isol8 1.0.0 instead of ${VERSION}`);
    expect(r.stdout).toBe("args: exit 4\n");
    expect(r.code).toBe(4);
    expect(readFileSync(bin)).toEqual(original);
    expect(readdirSync(dir)).toEqual(["isol8"]);
  });

  test.if(repositoryKeys.length === 0)("a launcher built without release keys (npm run build) refuses in one line and a hint, fetching nothing", async () => {
    const { home, bin } = freshHome();
    const before = server.requests.length;
    const r = await runAsync(["node", join(ROOT, "dist", "launcher.cjs"), "--version"], { PATH: process.env.PATH, HOME: home, ISOL8_RELEASE_URL: server.url });
    expect(r.stderr.split("\n")).toEqual([`isol8: Cannot verify release "${pkg.version}": this build trusts no release signing key`, expect.stringMatching(/^hint: /), ""]);
    expect(r.code).toBe(1);
    expect(server.requests.length).toBe(before);
    expect(existsSync(bin)).toBe(false);
  });
});
