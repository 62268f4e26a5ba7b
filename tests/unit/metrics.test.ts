import "reflect-metadata";
import express from "express";
import { parse, type OperationDefinitionNode } from "graphql";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config } from "../../src/config/env";
import { metricsHandler } from "../../src/observability/endpoint";
import {
  ANONYMOUS,
  MAX_ERROR_CODES,
  OTHER,
  OperationLabels,
  UNRESOLVED,
  errorCodeLabel,
  operations,
  recordOperation,
  registry,
} from "../../src/observability/metrics";

const op = (source: string) => parse(source).definitions[0] as OperationDefinitionNode;

/** Every sample line of a Prometheus text exposition: `name{labels} value`. */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|Inf|NaN)$/;

describe("operation labels", () => {
  it("keeps the first distinct names, then answers 'other'", () => {
    const labels = new OperationLabels(3);
    expect(labels.seriesOf(op("query A { x }")).operation).toBe("A");
    expect(labels.seriesOf(op("query B { x }")).operation).toBe("B");
    expect(labels.seriesOf(op("mutation A { x }")).operation).toBe("A"); // (type, name) pairs
    expect(labels.seriesOf(op("query D { x }")).operation).toBe(OTHER);
    expect(labels.seriesOf(op("mutation E { x }")).operation).toBe(OTHER);
    // Names already kept stay themselves, and the same series object is reused (no allocation).
    expect(labels.seriesOf(op("query A { y }"))).toBe(labels.seriesOf(op("query A { x }")));
    expect(labels.names("query").sort()).toEqual(["A", "B", OTHER]);
    expect(labels.names("mutation").sort()).toEqual(["A", OTHER]);
  });

  it("labels unnamed operations 'anonymous' and missing ones 'unresolved', outside the cap", () => {
    const labels = new OperationLabels(1);
    expect(labels.seriesOf(op("{ x }"))).toMatchObject({ type: "query", operation: ANONYMOUS });
    expect(labels.seriesOf(op("subscription { x }"))).toMatchObject({ type: "subscription", operation: ANONYMOUS });
    expect(labels.seriesOf(null)).toMatchObject({ type: "unknown", operation: UNRESOLVED });
    expect(labels.seriesOf(undefined)).toBe(labels.unresolved);
    expect(labels.seriesOf(op("query Kept { x }")).operation).toBe("Kept");
  });

  it("refuses very long names", () => {
    const labels = new OperationLabels(10);
    expect(labels.seriesOf(op(`query ${"N".repeat(101)} { x }`)).operation).toBe(OTHER);
  });

  it("caps error codes and refuses malformed ones", () => {
    expect(errorCodeLabel("FORBIDDEN")).toBe("FORBIDDEN");
    expect(errorCodeLabel("drop table;")).toBe(OTHER);
    expect(errorCodeLabel(42)).toBe(OTHER);
    for (let i = 0; i < MAX_ERROR_CODES + 5; i++) errorCodeLabel(`CODE_${i}`);
    expect(errorCodeLabel("FORBIDDEN")).toBe("FORBIDDEN"); // seen before the cap
    expect(errorCodeLabel("BRAND_NEW_CODE")).toBe(OTHER);
  });
});

describe("exposition", () => {
  it("writes counters and a cumulative histogram in the Prometheus text format", async () => {
    recordOperation(op("subscription UnitLive { x }"), "ws");
    recordOperation(op("subscription UnitLive { x }"), "ws");
    const timed = operations.seriesOf(op("query UnitTimed { x }"));
    timed.observeHttp(0.03);
    timed.observeHttp(0.003);
    timed.observeHttp(60);
    const text = await registry.metrics();
    for (const line of text.split("\n")) if (line && !line.startsWith("#")) expect(line).toMatch(SAMPLE);
    expect(text).toContain('orderline_graphql_requests_total{operation="UnitLive",type="subscription",transport="ws"} 2');
    expect(text).toContain('orderline_graphql_requests_total{operation="UnitTimed",type="query",transport="http"} 3');
    expect(text).toContain('orderline_graphql_request_duration_seconds_bucket{operation="UnitTimed",type="query",le="0.005"} 1');
    expect(text).toContain('orderline_graphql_request_duration_seconds_bucket{operation="UnitTimed",type="query",le="0.025"} 1');
    expect(text).toContain('orderline_graphql_request_duration_seconds_bucket{operation="UnitTimed",type="query",le="0.05"} 2');
    expect(text).toContain('orderline_graphql_request_duration_seconds_bucket{operation="UnitTimed",type="query",le="10"} 2');
    expect(text).toContain('orderline_graphql_request_duration_seconds_bucket{operation="UnitTimed",type="query",le="+Inf"} 3');
    expect(text).toContain('orderline_graphql_request_duration_seconds_count{operation="UnitTimed",type="query"} 3');
    expect(text).toMatch(/orderline_graphql_request_duration_seconds_sum\{operation="UnitTimed",type="query"\} 60\.03/);
    // Subscriptions over WebSocket are counted, not timed.
    expect(text).not.toMatch(/duration_seconds_count\{operation="UnitLive"/);
    expect(text).toContain("# TYPE orderline_graphql_request_duration_seconds histogram");
    expect(text).toContain('orderline_emails_total{outcome="sent"} 0');
  });
});

describe("GET /metrics protection", () => {
  let rows: Record<string, unknown>[] = [];
  let fail = false;
  const sql = {
    async query() {
      if (fail) throw new Error("database down");
      return { rows } as { rows: any[] };
    },
  };
  const servers: { close(): void }[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  async function serve(config: Partial<Config>): Promise<string> {
    const app = express();
    app.get("/metrics", metricsHandler(sql, { nodeEnv: "test", metricsToken: undefined, ...config } as Config));
    app.use((_req, res) => {
      res.status(404).json({ error: "not found" });
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  it("is open outside production without a token, and reports the job queue by task", async () => {
    rows = [
      { task: "send_email", waiting: 3, scheduled: 1, running: 2, failed: 1, erroring: 1, oldest_waiting_seconds: 12.5 },
      { task: "mystery_task", waiting: 4, scheduled: 0, running: 0, failed: 0, erroring: 0, oldest_waiting_seconds: 1 },
    ];
    const res = await fetch(await serve({ nodeEnv: "development" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('orderline_jobs{task="send_email",state="waiting"} 3');
    expect(text).toContain('orderline_jobs{task="send_email",state="scheduled"} 1');
    expect(text).toContain('orderline_jobs{task="send_email",state="running"} 2');
    expect(text).toContain('orderline_jobs{task="send_email",state="failed"} 1');
    expect(text).toContain('orderline_jobs{task="deliver_coupon",state="waiting"} 0'); // known tasks always present
    expect(text).toContain('orderline_jobs{task="other",state="waiting"} 4'); // unknown identifiers are summed
    expect(text).toContain('orderline_jobs_erroring{task="send_email"} 1');
    expect(text).toContain('orderline_jobs_oldest_waiting_seconds{task="send_email"} 12.5');
    expect(text).toContain("orderline_job_queue_up 1");
    expect(text).toContain("orderline_websocket_open_connections 0");
    expect(text).toContain("orderline_graphql_active_subscriptions 0");
    expect(text).toMatch(/^orderline_process_cpu_user_seconds_total /m);
  });

  it("leaves the job gauges out when the database does not answer", async () => {
    const url = await serve({});
    await new Promise((r) => setTimeout(r, 1_100)); // past the 1 s reuse of the last queue query
    fail = true;
    try {
      const text = await (await fetch(url)).text();
      expect(text).toContain("orderline_job_queue_up 0");
      expect(text).not.toMatch(/^orderline_jobs\{/m);
    } finally {
      fail = false;
    }
  });

  it("requires the bearer token when METRICS_TOKEN is set", async () => {
    const url = await serve({ nodeEnv: "production", metricsToken: "s3cret-metrics-token" });
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain("orderline_");
    expect((await fetch(url, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Basic czNjcmV0LW1ldHJpY3MtdG9rZW4=" } })).status).toBe(401);
    const good = await fetch(url, { headers: { authorization: "Bearer s3cret-metrics-token" } });
    expect(good.status).toBe(200);
    expect(await good.text()).toContain("orderline_graphql_requests_total");
  });

  it("is not served in production without a token", async () => {
    const res = await fetch(await serve({ nodeEnv: "production" }));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not found" });
  });
});

describe("METRICS_TOKEN", () => {
  const base = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), "orderline-metrics-")) });

  it("is optional and kept as given", () => {
    expect(loadConfig(base()).metricsToken).toBeUndefined();
    expect(loadConfig({ ...base(), METRICS_TOKEN: "" }).metricsToken).toBeUndefined();
    expect(loadConfig({ ...base(), METRICS_TOKEN: "abcdefghijklmnop" }).metricsToken).toBe("abcdefghijklmnop");
  });

  it("is refused when short or with spaces, named in the problems without its value", () => {
    for (const bad of ["short", "sixteen chars ok", "x".repeat(201)]) {
      try {
        loadConfig({ ...base(), METRICS_TOKEN: bad });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        const problems = (e as ConfigError).problems;
        expect(problems.map((p) => p.split(" ")[0])).toEqual(["METRICS_TOKEN"]);
        expect(problems.join()).not.toContain(bad);
      }
    }
  });
});
