import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { apiUrl, codes, gql, ok } from "../helpers/api";
import { anonymous, brandWithProducts, payOrder, placeOrder } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startApi, type ApiProcess } from "../helpers/processes";
import { STATUS_EVENTS, subscribe } from "../helpers/ws";

/**
 * GET /metrics over real HTTP. The run's API is shared with other test files running at the same
 * time, so assertions there compare deltas of series only this file produces (operation names
 * `MetricsProbe*`); exact counts of shared series (error codes, sockets) are checked on an API
 * process of this file's own, which also has METRICS_TOKEN set.
 */

const TOKEN = "metrics-test-token-0123456789";

type Samples = Map<string, number>;

/** Parses the text format into `name{label="value",...}` (labels sorted) → value. */
function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/(\w+)="((?:\\.|[^"\\])*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(`${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return samples;
}

const key = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",")}}`;
/** A sample's value; 0 when absent (a series appears on its first increment). */
const value = (s: Samples, name: string, labels: Record<string, string> = {}) => s.get(key(name, labels)) ?? 0;
const delta = (before: Samples, after: Samples, name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);

async function scrape(base = apiUrl(), token?: string): Promise<{ text: string; samples: Samples; res: Response }> {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parseMetrics(text), res };
}

const PROBE = "query MetricsProbe { __typename }";
// Fails in its resolver: creating a brand needs a signed-in caller.
const FAILING_PROBE = 'mutation MetricsFailingProbe { createBrand(input: { name: "Metrics probe", currency: "EUR" }) { id } }';

describe("GET /metrics on the run's API", () => {
  it("counts and times a named query under its operation name, never the query text", async () => {
    const before = (await scrape()).samples;
    for (let i = 0; i < 3; i++) await ok(PROBE);
    await ok("query MetricsProbeOther { __typename }");
    const { text, samples: after, res } = await scrape();

    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const probe = { operation: "MetricsProbe", type: "query" };
    expect(delta(before, after, "orderline_graphql_requests_total", { ...probe, transport: "http" })).toBe(3);
    expect(delta(before, after, "orderline_graphql_request_duration_seconds_count", probe)).toBe(3);
    expect(delta(before, after, "orderline_graphql_request_duration_seconds_bucket", { ...probe, le: "+Inf" })).toBe(3);
    expect(delta(before, after, "orderline_graphql_request_duration_seconds_sum", probe)).toBeGreaterThan(0);
    expect(after.has(key("orderline_graphql_request_duration_seconds_bucket", { ...probe, le: "0.005" }))).toBe(true);
    expect(delta(before, after, "orderline_graphql_requests_total", { operation: "MetricsProbeOther", type: "query", transport: "http" })).toBe(1);
    expect(text).toContain("# TYPE orderline_graphql_request_duration_seconds histogram");
    expect(text).not.toContain("__typename");
  });

  it("takes the label from the parsed document, not from the request's operationName", async () => {
    const res = await fetch(`${apiUrl()}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: PROBE, operationName: "MetricsInjectedName" }),
    });
    expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1); // the document has no operation of that name
    const { text } = await scrape();
    expect(text).not.toContain("MetricsInjectedName");
  });

  it("counts a failing mutation and the code of its error", async () => {
    const before = (await scrape()).samples;
    const r = await gql(FAILING_PROBE);
    expect(codes(r)).toEqual(["UNAUTHENTICATED"]);
    const { samples: after } = await scrape();
    expect(delta(before, after, "orderline_graphql_requests_total", { operation: "MetricsFailingProbe", type: "mutation", transport: "http" })).toBe(1);
    expect(delta(before, after, "orderline_graphql_request_duration_seconds_count", { operation: "MetricsFailingProbe", type: "mutation" })).toBe(1);
    // Other files hit UNAUTHENTICATED at the same time: at least ours (exact counts: below, on our own API).
    expect(delta(before, after, "orderline_graphql_errors_total", { code: "UNAUTHENTICATED" })).toBeGreaterThanOrEqual(1);
  });

  it("counts the confirmation emails the worker sends", async () => {
    const before = (await scrape()).samples;
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token); // a confirmation to the buyer and tickets to the attendee
    // Other files send mail at the same time: at least ours.
    await eventually(async () => expect(delta(before, (await scrape()).samples, "orderline_emails_total", { outcome: "sent" })).toBeGreaterThanOrEqual(2));
  });

  it("reports the job queue, email outcomes, sockets and process metrics", async () => {
    const { samples } = await scrape();
    expect(value(samples, "orderline_job_queue_up")).toBe(1);
    for (const task of ["send_email", "deliver_coupon"]) {
      for (const state of ["waiting", "scheduled", "running", "failed"]) expect(samples.has(key("orderline_jobs", { task, state }))).toBe(true);
      expect(samples.has(key("orderline_jobs_erroring", { task }))).toBe(true);
      expect(samples.has(key("orderline_jobs_oldest_waiting_seconds", { task }))).toBe(true);
    }
    for (const outcome of ["sent", "retry", "config_retry", "rejected", "failed", "dropped"])
      expect(samples.has(key("orderline_emails_total", { outcome }))).toBe(true);
    expect(samples.has(key("orderline_websocket_open_connections"))).toBe(true);
    expect(samples.has(key("orderline_graphql_active_subscriptions"))).toBe(true);
    expect(samples.has(key("orderline_process_resident_memory_bytes"))).toBe(true);
    expect(samples.has(key("orderline_nodejs_eventloop_lag_seconds"))).toBe(true);
  });
});

describe("an API with METRICS_TOKEN", () => {
  let api: ApiProcess;
  beforeAll(async () => {
    // On the run's database, without a worker (the run's API delivers the mail).
    api = await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false", METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("answers 401 without the token or with a wrong one, and 200 with it", async () => {
    const none = await fetch(`${api.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(await none.text()).not.toContain("orderline_");
    const wrong = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const { samples } = await scrape(api.url, TOKEN);
    expect(value(samples, "orderline_job_queue_up")).toBe(1);
    // The token protects /metrics only.
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it("counts errors by code exactly, including requests refused before parsing", async () => {
    const before = (await scrape(api.url, TOKEN)).samples;
    expect(codes(await gql(FAILING_PROBE, undefined, { api: api.url }))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await gql(FAILING_PROBE, undefined, { api: api.url }))).toEqual(["UNAUTHENTICATED"]);
    // A forged token fails while building the context, before Apollo reads the query.
    expect(codes(await gql(PROBE, undefined, { api: api.url, token: "not-a-token" }))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await gql("query MetricsBroken {", undefined, { api: api.url }))).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(codes(await gql("query MetricsInvalid { noSuchField }", undefined, { api: api.url }))).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    const after = (await scrape(api.url, TOKEN)).samples;

    expect(delta(before, after, "orderline_graphql_errors_total", { code: "UNAUTHENTICATED" })).toBe(3);
    expect(delta(before, after, "orderline_graphql_errors_total", { code: "GRAPHQL_PARSE_FAILED" })).toBe(1);
    expect(delta(before, after, "orderline_graphql_errors_total", { code: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);
    expect(delta(before, after, "orderline_graphql_requests_total", { operation: "MetricsFailingProbe", type: "mutation", transport: "http" })).toBe(2);
    // Bad credentials and the unparsable query: no operation to name.
    expect(delta(before, after, "orderline_graphql_requests_total", { operation: "unresolved", type: "unknown", transport: "http" })).toBe(2);
    // A document that parses but does not validate still names its operation.
    expect(delta(before, after, "orderline_graphql_requests_total", { operation: "MetricsInvalid", type: "query", transport: "http" })).toBe(1);
  });

  it("follows a graphql-ws connection and its subscription in the gauges", async () => {
    const brand = await brandWithProducts();
    const gauges = async () => {
      const { samples } = await scrape(api.url, TOKEN);
      return [value(samples, "orderline_websocket_open_connections"), value(samples, "orderline_graphql_active_subscriptions")];
    };
    expect(await gauges()).toEqual([0, 0]);
    const sub = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token, base: api.url });
    try {
      await eventually(async () => expect(await gauges()).toEqual([1, 1]));
    } finally {
      await sub.close();
    }
    await eventually(async () => expect(await gauges()).toEqual([0, 0]));
  });
});
