import type { OperationDefinitionNode } from "graphql";
import { Counter, Registry, collectDefaultMetrics, type Metric } from "prom-client";

/**
 * The process's Prometheus metrics (served at GET /metrics, see endpoint.ts). This module has no
 * heavy imports: the job worker (send-email.ts) counts email outcomes through it too.
 *
 * GraphQL requests are counted on the hot path without allocating: one Map lookup per request
 * finds the operation's series (plain numbers), and the exposition text is built at scrape time.
 */
export const registry = new Registry();
export const METRIC_PREFIX = "orderline_";

let defaultMetrics = false;
/** Node.js and process metrics (`orderline_process_*`, `orderline_nodejs_*`); once per process. */
export function enableDefaultMetrics(): void {
  if (defaultMetrics) return;
  defaultMetrics = true;
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
}

// ---- GraphQL operations ---------------------------------------------------------------------

export type Transport = "http" | "ws";
export type OperationType = "query" | "mutation" | "subscription" | "unknown";

/** Distinct operation names kept as label values; later names count as "other". */
export const MAX_OPERATION_NAMES = 200;
export const MAX_OPERATION_NAME_LENGTH = 100;
/** An operation without a name. */
export const ANONYMOUS = "anonymous";
/** Names beyond MAX_OPERATION_NAMES (or longer than MAX_OPERATION_NAME_LENGTH). */
export const OTHER = "other";
/** No operation could be read: unparsable query, no query, or refused before parsing (bad credentials, CSRF). */
export const UNRESOLVED = "unresolved";

/** Seconds. Orders page p50 ≈ 0.1 s, one order ≈ 0.02 s (README, Performance). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** One (operation type, operation label) pair: plain counters, updated in place. */
export class OperationSeries {
  http = 0;
  ws = 0;
  /** Non-cumulative counts per DURATION_BUCKETS bound (HTTP only); the rest is in `count`. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length);
  sum = 0;
  count = 0;

  constructor(
    readonly type: OperationType,
    readonly operation: string,
  ) {}

  /** One HTTP request that took `seconds`. */
  observeHttp(seconds: number): void {
    this.http++;
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]) {
        this.buckets[i]++;
        return;
      }
    }
  }

  /** One operation that is not timed (a WebSocket subscribe). */
  increment(transport: Transport): void {
    if (transport === "http") this.http++;
    else this.ws++;
  }
}

/**
 * Operation label values with a cardinality cap. Only names present in a parsed document reach
 * here (an OperationDefinitionNode), never the client's `operationName` or the query text. The
 * first `max` distinct (type, name) pairs keep their name; later ones are "other" (so a client
 * inventing names cannot grow the scrape without bound).
 */
export class OperationLabels {
  private readonly byType: Record<OperationType, Map<string, OperationSeries>> = {
    query: new Map(),
    mutation: new Map(),
    subscription: new Map(),
    unknown: new Map(),
  };
  private named = 0;
  readonly unresolved: OperationSeries;

  constructor(readonly max = MAX_OPERATION_NAMES) {
    this.unresolved = this.fixed("unknown", UNRESOLVED);
  }

  /** The series for an operation, or the "unresolved" one when there is none. */
  seriesOf(operation: OperationDefinitionNode | null | undefined): OperationSeries {
    if (!operation) return this.unresolved;
    const type = operation.operation as OperationType;
    const map = this.byType[type] ?? this.byType.unknown;
    const name = operation.name?.value;
    if (name === undefined) return map.get(ANONYMOUS) ?? this.fixed(type, ANONYMOUS);
    const found = map.get(name);
    if (found) return found;
    if (this.named >= this.max || name.length > MAX_OPERATION_NAME_LENGTH) return map.get(OTHER) ?? this.fixed(type, OTHER);
    this.named++;
    const series = new OperationSeries(type, name);
    map.set(name, series);
    return series;
  }

  /** Label values in use (for tests). */
  names(type: OperationType): string[] {
    return [...this.byType[type].keys()];
  }

  *all(): IterableIterator<OperationSeries> {
    for (const map of Object.values(this.byType)) yield* map.values();
  }

  reset(): void {
    for (const map of Object.values(this.byType)) map.clear();
    this.named = 0;
    this.byType.unknown.set(UNRESOLVED, this.unresolved);
    this.unresolved.http = this.unresolved.ws = this.unresolved.sum = this.unresolved.count = 0;
    this.unresolved.buckets.fill(0);
  }

  private fixed(type: OperationType, label: string): OperationSeries {
    const series = new OperationSeries(type, label);
    this.byType[type].set(label, series);
    return series;
  }
}

export const operations = new OperationLabels();

/**
 * Counts one GraphQL operation that is not timed: WebSocket subscribes (their "duration" is the
 * subscription's life). Pass the operation from the parsed document, or null when the query
 * did not parse. HTTP requests are counted and timed by `metricsPlugin`.
 */
export function recordOperation(operation: OperationDefinitionNode | null | undefined, transport: Transport = "ws"): void {
  operations.seriesOf(operation).increment(transport);
}

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** A metric whose samples are built at scrape time (what prom-client's registry needs of a metric). */
function scrapeTimeMetric(name: string, help: string, type: "counter" | "histogram", samples: () => Sample[]): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    async get() {
      return { name, help, type, aggregator: "sum", values: samples() };
    },
    reset() {
      operations.reset();
    },
  };
  return metric as unknown as Metric;
}

registry.registerMetric(
  scrapeTimeMetric(
    `${METRIC_PREFIX}graphql_requests_total`,
    "GraphQL operations received, by operation name, type and transport (http requests, ws subscribes).",
    "counter",
    () => {
      const values: Sample[] = [];
      for (const s of operations.all()) {
        if (s.http) values.push({ labels: { operation: s.operation, type: s.type, transport: "http" }, value: s.http });
        if (s.ws) values.push({ labels: { operation: s.operation, type: s.type, transport: "ws" }, value: s.ws });
      }
      return values;
    },
  ),
);

const DURATION = `${METRIC_PREFIX}graphql_request_duration_seconds`;
registry.registerMetric(
  scrapeTimeMetric(DURATION, "Time from Apollo receiving a GraphQL HTTP request to its response, by operation name and type.", "histogram", () => {
    const values: Sample[] = [];
    for (const s of operations.all()) {
      if (!s.count) continue;
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += s.buckets[i];
        values.push({ metricName: `${DURATION}_bucket`, labels: { operation: s.operation, type: s.type, le: DURATION_BUCKETS[i] }, value: cumulative });
      }
      values.push({ metricName: `${DURATION}_bucket`, labels: { operation: s.operation, type: s.type, le: "+Inf" }, value: s.count });
      values.push({ metricName: `${DURATION}_sum`, labels: { operation: s.operation, type: s.type }, value: s.sum });
      values.push({ metricName: `${DURATION}_count`, labels: { operation: s.operation, type: s.type }, value: s.count });
    }
    return values;
  }),
);

// ---- GraphQL errors -------------------------------------------------------------------------

/** Distinct error codes kept as label values; later or malformed ones count as "other". */
export const MAX_ERROR_CODES = 50;
const errorCodes = new Set<string>();
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

const graphqlErrors = new Counter({
  name: `${METRIC_PREFIX}graphql_errors_total`,
  help: "Errors in GraphQL responses (after masking: what clients saw), by extensions.code; HTTP and WebSocket.",
  labelNames: ["code"] as const,
  registers: [registry],
});

/** The label for an error code: itself when well-formed and among the first MAX_ERROR_CODES seen. */
export function errorCodeLabel(code: unknown): string {
  if (typeof code !== "string" || !CODE.test(code)) return code === undefined || code === null ? "NONE" : OTHER;
  if (errorCodes.has(code)) return code;
  if (errorCodes.size >= MAX_ERROR_CODES) return OTHER;
  errorCodes.add(code);
  return code;
}

// Present from the start (at 0), so `rate()` and alerts on it work before the first one.
graphqlErrors.inc({ code: errorCodeLabel("INTERNAL_SERVER_ERROR") }, 0);

/** Counts one error as the client received it (its masked `extensions.code`). */
export function recordErrorCode(code: unknown): void {
  graphqlErrors.inc({ code: errorCodeLabel(code) });
}

// ---- Email ----------------------------------------------------------------------------------

/**
 * What one run of the send_email job decided: `sent`; `retry` (a retryable failure, rescheduled);
 * `config_retry` (a configuration error such as a bad Postmark token, rescheduled);
 * `rejected` (the provider refused the recipient, FAILED at once); `failed` (retries exhausted);
 * `dropped` (nothing to send any more: the order or recipient is gone).
 */
export const EMAIL_OUTCOMES = ["sent", "retry", "config_retry", "rejected", "failed", "dropped"] as const;
export type EmailOutcome = (typeof EMAIL_OUTCOMES)[number];

const emails = new Counter({
  name: `${METRIC_PREFIX}emails_total`,
  help: "Email delivery attempts by outcome (sent, retry, config_retry, rejected, failed, dropped), counted in the process that runs the job worker.",
  labelNames: ["outcome"] as const,
  registers: [registry],
});
for (const outcome of EMAIL_OUTCOMES) emails.inc({ outcome }, 0);

export function recordEmailOutcome(outcome: EmailOutcome): void {
  emails.inc({ outcome });
}

// ---- Subscription executions ----------------------------------------------------------------

const subscriptionExecutions = new Counter({
  name: `${METRIC_PREFIX}subscription_executions_total`,
  help: "Executions of subscription events on this instance (each shared by every socket with the same document), by sharing: public (across viewers) or viewer.",
  labelNames: ["sharing"] as const,
  registers: [registry],
});
for (const sharing of ["public", "viewer"]) subscriptionExecutions.inc({ sharing }, 0);

export function recordSubscriptionExecution(sharing: "public" | "viewer"): void {
  subscriptionExecutions.inc({ sharing });
}
