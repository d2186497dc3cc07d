import { describe, expect, test } from "bun:test";
import { createMetrics } from "./metrics";

const phases = { queueMs: 1, acquireMs: 2, installMs: 0, runMs: 10, collectMs: 0 };

describe("metrics", () => {
  test("three executions count 3 by runtime and outcome; gauges are read when scraped", async () => {
    let queue = 0;
    const metrics = createMetrics({
      queueDepth: () => queue,
      inFlight: () => queue + 1,
      pools: () => ({ python: { ready: 1, dirty: 0, busy: 0, creating: 0 } }),
      sessions: () => 2,
      contexts: () => 4,
    });
    for (const outcome of ["ok", "ok", "timeout"] as const) metrics.observeEngine({ type: "execution", runtime: "python", outcome, durationMs: 13, phases });
    metrics.observeEngine({ type: "execution", runtime: "bash", outcome: "error", durationMs: 3, phases: null });
    metrics.observeEngine({ type: "container-created", runtime: "python" });
    metrics.observeEngine({ type: "container-destroyed" });
    metrics.observeEngine({ type: "proxy-request", action: "BLOCK" });
    metrics.observeEngine({ type: "docker-error", operation: "create" });
    metrics.observeRequest({ requestId: "r", method: "POST", route: "/execute", path: "/execute", status: 200, durationMs: 20, principal: "key:a", client: "192.0.2.7" });
    metrics.observeRequest({ requestId: "r", method: "BREW", route: null, path: "/coffee", status: 404, durationMs: 1, principal: null, client: "192.0.2.8" });
    queue = 3;
    const { body, contentType } = await metrics.render();
    expect(contentType).toContain("text/plain");
    for (const line of [
      'isol8_executions_total{runtime="python",outcome="ok"} 2',
      'isol8_executions_total{runtime="python",outcome="timeout"} 1',
      'isol8_executions_total{runtime="bash",outcome="error"} 1',
      'isol8_execution_phase_seconds_count{phase="run"} 3',
      'isol8_containers_created_total{runtime="python"} 1',
      "isol8_containers_destroyed_total 1",
      'isol8_proxy_requests_total{action="block"} 1',
      'isol8_docker_errors_total{operation="create"} 1',
      'isol8_http_requests_total{method="POST",route="/execute",status="200"} 1',
      'isol8_http_requests_total{method="other",route="unmatched",status="404"} 1',
      "isol8_execution_queue_depth 3",
      "isol8_executions_in_flight 4",
      'isol8_pool_containers{runtime="python",state="ready"} 1',
      "isol8_sessions 2",
      "isol8_contexts 4",
    ]) {
      expect(body).toContain(`${line}\n`);
    }
  });

  test("each server has its own registry", async () => {
    const sources = { queueDepth: () => 0, inFlight: () => 0, pools: () => ({}), sessions: () => 0 };
    const a = createMetrics(sources);
    const b = createMetrics(sources);
    a.observeEngine({ type: "container-destroyed" });
    expect((await b.render()).body).toContain("isol8_containers_destroyed_total 0\n");
  });
});
