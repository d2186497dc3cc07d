// Every capped list and map of a request, end to end against one `isol8 serve` (docs/SECURITY.md
// E8, I10): one entry (or byte) over its cap is a 400 naming the field and the cap, before
// anything runs; exactly at the cap the request is admitted and runs. The server allows what
// the fields need (installs, client patterns, 256 output files), so a refusal can only be the
// cap's; installs reach a package index on loopback only.
//
// SAFETY: the only network destination is the package index this file starts on 127.0.0.1
// (package-index.ts), named through the server's static host table.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { REQUEST_CAPS } from "../../src/protocol/request-caps";
import { type PackageIndex, startPackageIndex } from "./package-index";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "caps-e2e-key";
const servers = serverProcesses("isol8-caps-");
let pkgs: PackageIndex;
let server: StartedServer;

beforeAll(async () => {
  pkgs = await startPackageIndex();
  server = await servers.start({
    keys: [KEY],
    config: {
      defaults: { maxOutputFiles: REQUEST_CAPS.outputPaths },
      network: pkgs.network,
      server: { allowInstalls: true, allowClientNetworkPatterns: true },
    },
  });
}, 60_000);
afterAll(async () => {
  servers.cleanup();
  await pkgs?.index.close();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const record = <T>(n: number, entry: (i: number) => [string, T]) => Object.fromEntries(range(n).map(entry));

interface Row {
  /** The request's fields with `n` entries (or bytes). */
  request(n: number): Record<string, unknown>;
  cap: number;
  /** The message the over-cap request gets, after `request.<field>: `. */
  message: string;
  /** What the at-cap run shows on stdout (or a check of the whole result). */
  ran: string | ((result: Result) => void);
}

interface Result {
  stdout: string;
  stderr: string;
  exitCode: number;
  files?: Record<string, string>;
}

const ROWS: Record<string, Row> = {
  files: {
    cap: REQUEST_CAPS.files,
    request: (n) => ({ code: "import os; print(len([f for f in os.listdir('/sandbox') if f.startswith('f')]))", files: record(n, (i) => [`f${i}.txt`, "x"]) }),
    message: `at most ${REQUEST_CAPS.files} entries`,
    ran: `${REQUEST_CAPS.files}\n`,
  },
  outputPaths: {
    cap: REQUEST_CAPS.outputPaths,
    request: (n) => ({ code: `for i in range(${n}): open(f'/sandbox/o{i}', 'w').write('x')`, outputPaths: range(n).map((i) => `o${i}`) }),
    message: `at most ${REQUEST_CAPS.outputPaths} entries`,
    ran: (result) => expect(Object.keys(result.files ?? {})).toHaveLength(REQUEST_CAPS.outputPaths),
  },
  installPackages: {
    cap: REQUEST_CAPS.installPackages,
    // Not on the index (it serves tinypkg only): the install step runs and fails, as data.
    request: (n) => ({ code: "print('never')", installPackages: range(n).map((i) => `gapspkg${i}`), env: pkgs.pipEnv }),
    message: `at most ${REQUEST_CAPS.installPackages} entries`,
    ran: (result) => {
      expect(result.stderr).toContain("isol8: installing");
      expect(result.stdout).not.toContain("never");
      expect(pkgs.paths()).toContain("/simple/gapspkg0/"); // the install step reached the index
    },
  },
  args: {
    cap: REQUEST_CAPS.args,
    request: (n) => ({ code: "import sys; print(len(sys.argv) - 1)", args: range(n).map((i) => `a${i}`) }),
    message: `at most ${REQUEST_CAPS.args} entries`,
    ran: `${REQUEST_CAPS.args}\n`,
  },
  "args (bytes)": {
    // n bytes of arguments, each counted with its NUL: 1,000 of them.
    cap: REQUEST_CAPS.argsBytes,
    request: (n) => {
      const each = Math.floor(n / REQUEST_CAPS.args);
      const args = range(REQUEST_CAPS.args).map(() => "b".repeat(each - 1));
      args[0] = "b".repeat(n - each * (REQUEST_CAPS.args - 1) - 1);
      return { code: "import sys; print(sum(len(a) + 1 for a in sys.argv[1:]))", args };
    },
    message: `at most ${REQUEST_CAPS.argsBytes / 1024} KiB together`,
    ran: `${REQUEST_CAPS.argsBytes}\n`,
  },
  allow: {
    cap: REQUEST_CAPS.hostPatterns,
    request: (n) => ({ code: "print('patterns')", network: "filtered", allow: range(n).map((i) => `host${i}.test`) }),
    message: `at most ${REQUEST_CAPS.hostPatterns} entries`,
    ran: "patterns\n",
  },
  deny: {
    cap: REQUEST_CAPS.hostPatterns,
    request: (n) => ({ code: "print('patterns')", network: "filtered", deny: range(n).map((i) => `host${i}.test`) }),
    message: `at most ${REQUEST_CAPS.hostPatterns} entries`,
    ran: "patterns\n",
  },
  secrets: {
    cap: REQUEST_CAPS.secretEntries,
    request: (n) => ({ code: "import os; print(os.environ['GS0'], len([k for k in os.environ if k.startswith('GS')]))", secrets: record(n, (i) => [`GS${i}`, `gaps-secret-${i}`]) }),
    message: `at most ${REQUEST_CAPS.secretEntries} entries`,
    ran: `*** ${REQUEST_CAPS.secretEntries}\n`,
  },
  "secrets (bytes)": {
    // n bytes of names and values: 64 entries.
    cap: REQUEST_CAPS.secretBytes,
    request: (n) => {
      // 64 names of 4 bytes ("GT00"), values filling the rest; the first takes the remainder.
      const each = Math.floor(n / 64) - 4;
      const first = n - 64 * 4 - each * 63;
      const value = (i: number) => `${i}`.padEnd(i === 0 ? first : each, "v");
      return { code: "import os; print(sum(len(k) + len(v) for k, v in os.environ.items() if k.startswith('GT')))", secrets: record(64, (i) => [`GT${String(i).padStart(2, "0")}`, value(i)]) };
    },
    message: `at most ${REQUEST_CAPS.secretBytes / 1024} KiB of names and values`,
    ran: `${REQUEST_CAPS.secretBytes}\n`,
  },
  env: {
    cap: REQUEST_CAPS.envEntries,
    request: (n) => ({ code: "import os; print(len([k for k in os.environ if k.startswith('GE')]))", env: record(n, (i) => [`GE${i}`, "v"]) }),
    message: `at most ${REQUEST_CAPS.envEntries} entries`,
    ran: `${REQUEST_CAPS.envEntries}\n`,
  },
};

const post = (body: object) =>
  fetch(`${server.url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** The JSON field a row's request fills (the row's name without its qualifier). */
const fieldOf = (name: string) => name.split(" ")[0]!;

describe("isol8 serve: every capped list and map of a request", () => {
  test.each(Object.keys(ROWS))("%s: one over the cap → 400 naming the field, at the cap → admitted and run", async (name) => {
    const row = ROWS[name]!;
    pkgs.index.reset();
    const over = await post({ request: row.request(row.cap + 1) });
    expect(over.status).toBe(400);
    const message = ((await over.json()) as { error: { message: string } }).error.message;
    expect(message).toContain(`request.${fieldOf(name)}: ${row.message}`);
    expect(pkgs.index.connections).toBe(0); // nothing of the refused request ran

    const at = await post({ request: row.request(row.cap) });
    const result = (await at.json()) as Result;
    expect([name, at.status]).toEqual([name, 200]);
    if (typeof row.ran === "string") expect(result.stdout).toBe(row.ran);
    else row.ran(result);
  }, 90_000);
});

describe("isol8 serve: every cap at once", () => {
  test("args, env and secrets all at their caps (entries and bytes) in one request: admitted, and the program sees every one", async () => {
    const args = ROWS["args (bytes)"]!.request(REQUEST_CAPS.argsBytes).args as string[];
    const env = record(REQUEST_CAPS.envEntries, (i) => [`GE${i}`, "v".repeat(Math.floor(REQUEST_CAPS.envBytes / REQUEST_CAPS.envEntries) - `GE${i}`.length)]);
    const secrets = ROWS.secrets!.request(REQUEST_CAPS.secretEntries).secrets as Record<string, string>;
    const code = [
      "import os, sys",
      "print(len(sys.argv) - 1, sum(len(a) + 1 for a in sys.argv[1:]))",
      "print(len([k for k in os.environ if k.startswith('GE')]), sum(len(k) + len(v) for k, v in os.environ.items() if k.startswith('GE')))",
      "print(len([k for k in os.environ if k.startswith('GS')]))",
    ].join("\n");
    const response = await post({ request: { code, args, env, secrets } });
    expect(response.status).toBe(200);
    const envBytes = Object.entries(env).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    expect(envBytes).toBeLessThanOrEqual(REQUEST_CAPS.envBytes);
    expect(((await response.json()) as Result).stdout).toBe(
      `${REQUEST_CAPS.args} ${REQUEST_CAPS.argsBytes}\n${REQUEST_CAPS.envEntries} ${envBytes}\n${REQUEST_CAPS.secretEntries}\n`,
    );
  }, 90_000);
});
