/**
 * bench/observe: what observing costs on the warm path. The HTTP app answers `POST /execute`
 * in-process from a stand-in engine (no Docker: only the server's own work is measured), once
 * bare and once with the access log (JSON, to a discarding writer) and Prometheus metrics
 * subscribed, as serve.ts wires them; rounds alternate so both see the same machine.
 *
 *   bun bench/observe.ts [--n 5000] [--rounds 5]
 */
import { defaultConfig } from "../src/config/schema";
import { executionOutcome } from "../src/protocol/observe";
import { createServerLogger } from "../src/server/logging";
import { createMetrics } from "../src/server/metrics";
import { call, fakeEngine, makeApp } from "../test/server-fixtures";
import { arg, summary } from "./stats";

const N = Number(arg("n", "5000"));
const ROUNDS = Number(arg("rounds", "5"));
const body = { request: { code: "print('hello')" } };

function observedApp() {
  const logger = createServerLogger({ format: "json", level: "info", write: () => {} });
  const metrics = createMetrics({ queueDepth: () => 0, inFlight: () => 0, pools: () => ({}), sessions: () => 0 });
  const engine = fakeEngine();
  const execute = engine.execute.bind(engine);
  // The engine's execution event, as DockerIsol8 emits it.
  engine.execute = async (request, options) => {
    const result = await execute(request, options);
    const event = { type: "execution" as const, runtime: result.runtime, outcome: executionOutcome(result), durationMs: result.durationMs, phases: result.phases };
    metrics.observeEngine(event);
    logger.engine(event);
    return result;
  };
  return makeApp(defaultConfig(), engine, {
    observe: (event) => {
      metrics.observeRequest(event);
      logger.request(event);
    },
  }).app;
}

async function perRequestMicros(app: ReturnType<typeof makeApp>["app"]): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const response = await call(app, "POST", "/execute", body);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  }
  return ((performance.now() - start) * 1000) / N;
}

const bare = makeApp().app;
const observed = observedApp();
await perRequestMicros(bare);
await perRequestMicros(observed);
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  a.push(await perRequestMicros(bare));
  b.push(await perRequestMicros(observed));
}
const bareP50 = summary(a).p50;
const observedP50 = summary(b).p50;
console.log(`bench/observe: ${ROUNDS} rounds of ${N} in-process POST /execute (stand-in engine)`);
console.log(`bare app:                     median ${bareP50.toFixed(1)} µs per request`);
console.log(`with access log + metrics:    median ${observedP50.toFixed(1)} µs per request`);
console.log(`observing costs ${(observedP50 - bareP50).toFixed(1)} µs per request (ratio ${(observedP50 / bareP50).toFixed(2)})`);
