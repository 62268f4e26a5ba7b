import type { RequestHandler } from "express";
import { createHash, timingSafeEqual } from "node:crypto";
import { Gauge } from "prom-client";
import type { Config } from "../config/env";
import { engineCacheUsage } from "../http/engine";
import { localOnly } from "../http/local-only";
import { openSocketCount } from "../http/ws";
import { Task } from "../jobs/queue";
import { logger } from "../logger";
import { activeSubscriptions } from "../pubsub/order-events";
import type { Sql } from "../db/sql";
import { METRIC_PREFIX, enableDefaultMetrics, registry } from "./metrics";

/** A scrape waits at most this long for the job queue query; then the queue gauges are left out. */
export const QUEUE_QUERY_TIMEOUT_MS = 2_000;
/** Scrapes within this window share one queue query (the gauges are collected separately). */
const QUEUE_QUERY_REUSE_MS = 1_000;

/**
 * `GET /metrics`: the Prometheus text format.
 *
 * - METRICS_TOKEN set: only with `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
 * - Unset outside production: loopback clients only (a developer's machine, the tests; others
 *   get 404), or everyone with DEV_ROUTES=open (see src/http/local-only.ts).
 * - Unset in production: not served (404, like any unknown path). Metrics name operations,
 *   error rates and queue sizes; they are not for the public, and the app cannot tell a
 *   scraper on a private network from a client behind a reverse proxy on loopback.
 */
export function metricsHandler(sql: Sql, config: Config): RequestHandler {
  enableDefaultMetrics();
  registerRuntimeGauges(sql);
  const token = config.metricsToken;
  const expected = token ? digest(token) : undefined;
  const disabled = !token && config.nodeEnv === "production";
  if (disabled) logger().info("GET /metrics is off: set METRICS_TOKEN to serve Prometheus metrics in production");

  const local = localOnly({ devRoutes: config.devRoutes ?? "local" });
  return async (req, res, next) => {
    if (disabled) return next();
    if (!expected) {
      let passed = false;
      local(req, res, () => (passed = true));
      if (!passed) return;
    }
    if (expected) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
      if (!m || !timingSafeEqual(digest(m[1]), expected)) {
        res.status(401).set("WWW-Authenticate", 'Bearer realm="metrics"').json({ error: "unauthorized" });
        return;
      }
    }
    const body = await registry.metrics();
    // end(), not send(): Express would rewrite the content type's parameters.
    res.status(200).setHeader("Content-Type", registry.contentType).setHeader("Cache-Control", "no-store").end(body);
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

// ---- Gauges read at scrape time ---------------------------------------------------------------

let source: Sql | undefined;
let registered = false;

/** Sockets, subscriptions, the GraphQL engine's caches and the job queue; registered once per process (the latest `sql` is used). */
function registerRuntimeGauges(sql: Sql): void {
  source = sql;
  if (registered) return;
  registered = true;

  new Gauge({
    name: `${METRIC_PREFIX}websocket_open_connections`,
    help: "WebSocket connections open on this instance (graphql-ws on /graphql).",
    registers: [registry],
    collect() {
      this.set(openSocketCount());
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}graphql_active_subscriptions`,
    help: "GraphQL subscription streams open on this instance.",
    registers: [registry],
    collect() {
      this.set(activeSubscriptions());
    },
  });
  // The GraphQL engine's caches (src/http/engine-cache.ts), per transport: bounded by entries and
  // by characters of document text, whatever clients send.
  new Gauge({
    name: `${METRIC_PREFIX}graphql_cache_entries`,
    help: "Entries in the GraphQL engine's caches, by cache (documents: parsed and validated; compiled: graphql-jit) and transport.",
    labelNames: ["cache", "transport"] as const,
    registers: [registry],
    collect() {
      for (const { transport, documents, compiled } of engineCacheUsage()) {
        this.set({ cache: "documents", transport }, documents.entries);
        this.set({ cache: "compiled", transport }, compiled.entries);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}graphql_cache_chars`,
    help: "Characters of document text the GraphQL engine's caches hold, by cache and transport (what their weight caps bound).",
    labelNames: ["cache", "transport"] as const,
    registers: [registry],
    collect() {
      for (const { transport, documents, compiled } of engineCacheUsage()) {
        this.set({ cache: "documents", transport }, documents.chars);
        this.set({ cache: "compiled", transport }, compiled.chars);
      }
    },
  });

  new Gauge({
    name: `${METRIC_PREFIX}job_queue_up`,
    help: "1 when this scrape could read the job queue from PostgreSQL, else 0 (and the job gauges are absent).",
    registers: [registry],
    async collect() {
      this.set((await queueSnapshot()) ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}jobs`,
    help:
      "graphile-worker jobs by task and state: waiting (due, not taken), scheduled (run_at in the future, e.g. a delivery retry with backoff), " +
      "running (locked by a worker), failed (graphile-worker's attempts used up; never run again). The queue is shared: every instance reports the same numbers.",
    labelNames: ["task", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await queueSnapshot();
      if (!snapshot) return;
      for (const [task, row] of snapshot) {
        this.set({ task, state: "waiting" }, row.waiting);
        this.set({ task, state: "scheduled" }, row.scheduled);
        this.set({ task, state: "running" }, row.running);
        this.set({ task, state: "failed" }, row.failed);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}jobs_erroring`,
    help: "graphile-worker jobs whose last run threw (last_error set) and that will run again, by task.",
    labelNames: ["task"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await queueSnapshot();
      if (snapshot) for (const [task, row] of snapshot) this.set({ task }, row.erroring);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}jobs_oldest_waiting_seconds`,
    help: "How long the oldest waiting job has been due, by task (0 when none waits): a stuck or missing worker shows here.",
    labelNames: ["task"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await queueSnapshot();
      if (snapshot) for (const [task, row] of snapshot) this.set({ task }, row.oldestWaitingSeconds);
    },
  });
}

interface QueueRow {
  waiting: number;
  scheduled: number;
  running: number;
  failed: number;
  erroring: number;
  oldestWaitingSeconds: number;
}
type QueueSnapshot = Map<string, QueueRow>;

/**
 * One statement over graphile-worker 0.17's tables (`_private_jobs`, `_private_tasks`; finished
 * jobs are deleted, so the table holds only the backlog). A job is "available" to workers when
 * unlocked and attempts < max_attempts (its generated `is_available` column).
 */
export const QUEUE_SQL = `
select t.identifier as task,
  count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now())::int as waiting,
  count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at > now())::int as scheduled,
  count(*) filter (where j.locked_at is not null)::int as running,
  count(*) filter (where j.locked_at is null and j.attempts >= j.max_attempts)::int as failed,
  count(*) filter (where j.last_error is not null and j.locked_at is null and j.attempts < j.max_attempts)::int as erroring,
  coalesce(extract(epoch from now() - min(j.run_at) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now())), 0)::float8 as oldest_waiting_seconds
from graphile_worker._private_jobs j
join graphile_worker._private_tasks t on t.id = j.task_id
group by t.identifier`;

/** A row of QUEUE_SQL. */
type QueueSqlRow = { task: string; waiting: number; scheduled: number; running: number; failed: number; erroring: number; oldest_waiting_seconds: number };

const KNOWN_TASKS: readonly string[] = Object.values(Task);
let cached: { at: number; promise: Promise<QueueSnapshot | null> } | undefined;

/** The queue by task (known tasks always present, others summed as "other"); null when the database did not answer. */
function queueSnapshot(): Promise<QueueSnapshot | null> {
  const now = performance.now();
  if (cached && now - cached.at < QUEUE_QUERY_REUSE_MS) return cached.promise;
  const promise = readQueue();
  cached = { at: now, promise };
  return promise;
}

async function readQueue(): Promise<QueueSnapshot | null> {
  if (!source) return null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${QUEUE_QUERY_TIMEOUT_MS} ms`)), QUEUE_QUERY_TIMEOUT_MS);
    });
    const { rows } = await Promise.race([source.query<QueueSqlRow>(QUEUE_SQL), timeout]);
    const snapshot: QueueSnapshot = new Map();
    const empty = (): QueueRow => ({ waiting: 0, scheduled: 0, running: 0, failed: 0, erroring: 0, oldestWaitingSeconds: 0 });
    for (const task of KNOWN_TASKS) snapshot.set(task, empty());
    for (const r of rows) {
      const task = KNOWN_TASKS.includes(r.task) ? r.task : "other";
      const row = snapshot.get(task) ?? empty();
      row.waiting += r.waiting;
      row.scheduled += r.scheduled;
      row.running += r.running;
      row.failed += r.failed;
      row.erroring += r.erroring;
      row.oldestWaitingSeconds = Math.max(row.oldestWaitingSeconds, Number(r.oldest_waiting_seconds) || 0);
      snapshot.set(task, row);
    }
    return snapshot;
  } catch (err) {
    logger().warn({ err }, "metrics: could not read the job queue");
    return null;
  } finally {
    clearTimeout(timer);
  }
}
