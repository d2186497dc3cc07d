// Prometheus metrics (prom-client) of one server: counters and histograms fed by the engine's
// and the app's events, gauges read from their sources when scraped (nothing on the warm path
// but a counter increment). One registry per server: no module-level state.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { PHASES } from "../protocol/execution";
import type { EngineEvent } from "../protocol/observe";
import type { RequestEvent } from "./request-event";

/** What the gauges read at scrape time. */
export interface MetricsSources {
  /** Executions waiting for a slot. */
  queueDepth(): number;
  /** Executions holding a slot or waiting for one. */
  inFlight(): number;
  /** Warm-pool containers per runtime and state. */
  pools(): Record<string, Record<string, number>>;
  /** Sessions (persistent containers) open. */
  sessions(): number;
  /** Contexts open, when the server has them. */
  contexts?(): number;
}

export interface ServerMetrics {
  observeEngine(event: EngineEvent): void;
  observeRequest(event: RequestEvent): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Methods counted by name; any other is `other` (a client must not grow the label set). */
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const executions = new Counter({
    name: "isol8_executions_total",
    help: "Executions finished, by runtime and outcome (ok, nonzero-exit, timeout, oom, output-cap, pids-limit, aborted, error)",
    labelNames: ["runtime", "outcome"],
    registers,
  });
  const duration = new Histogram({ name: "isol8_execution_duration_seconds", help: "Whole executions, by runtime", labelNames: ["runtime"], buckets: SECONDS_BUCKETS, registers });
  const phases = new Histogram({
    name: "isol8_execution_phase_seconds",
    help: `Time per execution phase (${PHASES.join(", ")})`,
    labelNames: ["phase"],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const created = new Counter({ name: "isol8_containers_created_total", help: "Sandbox containers created, by runtime", labelNames: ["runtime"], registers });
  const destroyed = new Counter({ name: "isol8_containers_destroyed_total", help: "Sandbox containers removed", registers });
  const proxied = new Counter({ name: "isol8_proxy_requests_total", help: "Requests through the filtering proxy, by verdict (allow, block)", labelNames: ["action"], registers });
  const dockerErrors = new Counter({ name: "isol8_docker_errors_total", help: "Failed Docker calls, by operation", labelNames: ["operation"], registers });
  const requests = new Counter({ name: "isol8_http_requests_total", help: "HTTP requests answered, by method, route and status", labelNames: ["method", "route", "status"], registers });
  const requestDuration = new Histogram({
    name: "isol8_http_request_duration_seconds",
    help: "Time to the answer's head, by method and route",
    labelNames: ["method", "route"],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  new Gauge({ name: "isol8_execution_queue_depth", help: "Executions waiting for a slot", registers, collect() { this.set(sources.queueDepth()); } });
  new Gauge({ name: "isol8_executions_in_flight", help: "Executions holding or waiting for a slot", registers, collect() { this.set(sources.inFlight()); } });
  new Gauge({
    name: "isol8_pool_containers",
    help: "Warm-pool containers, by runtime and state (ready, dirty, busy, creating)",
    labelNames: ["runtime", "state"],
    registers,
    collect() {
      this.reset();
      for (const [runtime, states] of Object.entries(sources.pools())) {
        for (const [state, count] of Object.entries(states)) this.set({ runtime, state }, count);
      }
    },
  });
  new Gauge({ name: "isol8_sessions", help: "Sessions (persistent containers) open", registers, collect() { this.set(sources.sessions()); } });
  if (sources.contexts) {
    const contexts = sources.contexts;
    new Gauge({ name: "isol8_contexts", help: "Contexts open", registers, collect() { this.set(contexts()); } });
  }

  return {
    observeEngine(event) {
      switch (event.type) {
        case "execution":
          executions.inc({ runtime: event.runtime, outcome: event.outcome });
          duration.observe({ runtime: event.runtime }, event.durationMs / 1000);
          if (event.phases) for (const phase of PHASES) phases.observe({ phase }, event.phases[`${phase}Ms`] / 1000);
          break;
        case "container-created":
          created.inc({ runtime: event.runtime });
          break;
        case "container-destroyed":
          destroyed.inc();
          break;
        case "proxy-request":
          proxied.inc({ action: event.action.toLowerCase() });
          break;
        case "docker-error":
          dockerErrors.inc({ operation: event.operation });
          break;
      }
    },
    observeRequest(event) {
      const route = event.route ?? "unmatched";
      const method = METHODS.has(event.method) ? event.method : "other";
      requests.inc({ method, route, status: String(event.status) });
      requestDuration.observe({ method, route }, event.durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
