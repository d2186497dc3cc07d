// Real-Docker proof that the engines of one owner (a server's engine and its sessions' engines
// share the server's owner id) keep their host sockets apart (docs/SECURITY.md A17): each
// has its own run directory, so one engine's stop removes only its own. With one directory
// per owner, a session's stop removed the proxy socket of every other filtered container of
// the server, and their programs' connections were reset.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Isol8ConfigInput } from "../../src/config/schema";
import type { DockerIsol8 } from "../../src/engine/engine";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { type HttpSink, PY_HTTP, shown, startHttpSink } from "./network-sinks";

let sink: HttpSink;
/** The run directory both engines share, as a server's engines share $ISOL8_RUN_DIR. */
const shared = mkdtempSync(join(tmpdir(), "isol8-run-dir-"));
const engines: DockerIsol8[] = [];

beforeAll(async () => {
  sink = await startHttpSink("127.0.0.1");
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
  // Each engine removed its own directory, and the last one its owner's.
  expect(readdirSync(shared)).toEqual([]);
  rmSync(shared, { recursive: true, force: true });
  await sink.close();
});

/** A persistent python engine of `owner` whose run directory is `shared`. */
function sessionOf(owner: string, config: Isol8ConfigInput): DockerIsol8 {
  const saved = process.env.ISOL8_RUN_DIR;
  process.env.ISOL8_RUN_DIR = shared;
  try {
    const engine = testEngine({ owner, mode: "persistent", runtime: "python", config });
    engines.push(engine);
    return engine;
  } finally {
    if (saved === undefined) delete process.env.ISOL8_RUN_DIR;
    else process.env.ISOL8_RUN_DIR = saved;
  }
}

test("one engine's stop leaves the other's proxy socket: its filtered container still reaches the sink", async () => {
  const config = { network: { hosts: { "sink.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] } };
  const owner = `isol8-test-owner-${process.pid}`;
  const session = sessionOf(owner, config);
  const other = sessionOf(owner, config);
  const get = (on: DockerIsol8, path: string) =>
    on.execute({ runtime: "python", network: "filtered", allow: ["sink\\.test"], timeoutMs: 60_000, code: `${PY_HTTP}\nshow("sink", get("http://sink.test:${sink.port}${path}"))` });
  expect(shown((await get(session, "/before")).stdout).sink).toEqual([200, `sink sink.test:${sink.port} /before`]);
  expect(shown((await get(other, "/other")).stdout).sink).toEqual([200, `sink sink.test:${sink.port} /other`]);
  await other.stop();
  // The twin of the failure: the same request as before, from the same container.
  expect(shown((await get(session, "/after")).stdout).sink).toEqual([200, `sink sink.test:${sink.port} /after`]);
}, 120_000);
