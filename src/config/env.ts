import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export type NodeEnv = "development" | "production" | "test";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The validated configuration. Read once at start; see `loadConfig`. */
export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  dataDir: string;
  /** Unset: an embedded PostgreSQL under `dataDir/pg` is started. */
  databaseUrl: string | undefined;
  publicUrl: string;
  authSecret: string;
  paymentWebhookSecret: string;
  orderTtlMinutes: number;
  /** Passed to Express `trust proxy`: false, true, a hop count or a list of addresses. */
  trustProxy: boolean | number | string;
  logLevel: LogLevel;
  /**
   * The development payment provider (`/dev/checkout/:id`) and `/dev/mail`: on by default outside
   * production (DEV_PAYMENT_PROVIDER), refused in production; main.ts warns at start while it is on.
   */
  devPaymentProvider: boolean;
  /** Refunds (issue #11): POST {url}/refunds with `Authorization: Bearer {apiKey}`; unset: the development provider answers in-process. */
  paymentProvider: { url: string | undefined; apiKey: string | undefined };
  mail: {
    /** Unset: mail goes to the local outbox in the database (listed at /dev/mail). */
    postmarkServerToken: string | undefined;
    /** Where the postmark client sends requests (tests point it at a fake server on 127.0.0.1). */
    postmarkApiUrl: string;
    from: string;
  };
  /** GraphiQL at GET /graphql for browsers (default: on outside production). */
  graphiql: boolean;
  /** Run the job worker inside the API process (`npm run worker` runs it alone). */
  runWorker: boolean;
  /** First retry delay of failed deliveries (doubles each time, capped at one hour). */
  jobRetryBaseMs: number;
  /**
   * Bearer token for GET /metrics. Unset: /metrics is open outside production and not served in
   * production (see src/observability/endpoint.ts).
   */
  metricsToken: string | undefined;
  /**
   * A job worker whose heartbeat is older than this is presumed dead (killed, host lost): the jobs
   * it had locked are released for the other workers (see src/jobs/heartbeat.ts).
   */
  workerHeartbeatTimeoutMs: number;
  /** Schema introspection (`__schema`, `__type`) on HTTP and WebSocket (default: off in production). */
  introspection: boolean;
  /** "Did you mean …?" suggestions in validation errors (default: off in production). */
  fieldSuggestions: boolean;
  /** PostgreSQL `statement_timeout` for the API's connections (0: none). */
  statementTimeoutMs: number;
  /** A GraphQL request still executing after this long is answered with TIMEOUT (HTTP 503). */
  requestTimeoutMs: number;
  /**
   * Webhooks (couponWebhookUrl) may target private, loopback and link-local addresses: true (all),
   * false (none: the production default) or "loopback" (127.0.0.0/8 and ::1 only: the default
   * outside production).
   */
  webhookAllowPrivate: boolean | "loopback";
  /**
   * Outside production, /dev/checkout, /dev/mail and a token-less /metrics answer loopback clients
   * only ("local", the default; others get 404), or everyone ("open", DEV_ROUTES=open).
   */
  devRoutes: "local" | "open";
  /** Open WebSockets per client address (IPv6 by /64); the next upgrade is refused with 429. */
  wsMaxPerAddress: number;
  /** A WebSocket with no subscription for this long is closed with 4408. */
  wsIdleTimeoutMs: number;
  /** Subscription documents compiled by graphql-jit per client address and minute; beyond, graphql-js executes. */
  wsCompilesPerMinute: number;
  /** Multiplies the `max` of every @RateLimit rule (load tests; a venue behind one address). */
  rateLimitScale: number;
  /** The largest accepted query cost (limits.ts); the default is QUERY_LIMITS.maxCost. */
  queryMaxCost: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const MIN_SECRET_LENGTH = 32;

/**
 * For entry points: reads `.env` from the working directory when there is one (variables already
 * set win), validates, and on a bad configuration prints every problem and exits with code 2.
 */
export function loadConfigOrExit(): Config {
  if (existsSync(".env")) process.loadEnvFile(".env");
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}

/**
 * Validates `env` into a typed `Config`. Every bad variable is named in one `ConfigError`.
 * In development a missing AUTH_SECRET / PAYMENT_WEBHOOK_SECRET is generated once and kept in
 * DATA_DIR so tokens survive restarts; in production both are required.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const nodeEnv = (env.NODE_ENV ?? "development") as NodeEnv;
  if (!["development", "production", "test"].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, production or test (got "${env.NODE_ENV}")`);
  }
  const production = nodeEnv === "production";

  const port = integer(env, "PORT", 4000, 0, 65535, problems);
  const orderTtlMinutes = integer(env, "ORDER_TTL_MINUTES", 30, 1, 7 * 24 * 60, problems);
  const dataDir = resolve(env.DATA_DIR || ".data");

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }

  let publicUrl = env.PUBLIC_URL || `http://localhost:${port || 4000}`;
  try {
    const u = new URL(publicUrl);
    if (!["http:", "https:"].includes(u.protocol)) throw new Error();
    publicUrl = publicUrl.replace(/\/+$/, "");
  } catch {
    problems.push(`PUBLIC_URL must be an http(s) URL (got "${env.PUBLIC_URL}")`);
  }

  const logLevel = (env.LOG_LEVEL || (nodeEnv === "test" ? "warn" : "info")) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const trustProxy = parseTrustProxy(env.TRUST_PROXY, problems);

  const postmarkApiUrl = (env.POSTMARK_API_URL || "https://api.postmarkapp.com").replace(/\/+$/, "");
  try {
    if (!/^https?:$/.test(new URL(postmarkApiUrl).protocol)) throw new Error();
  } catch {
    problems.push(`POSTMARK_API_URL must be an http(s) URL (got "${env.POSTMARK_API_URL}")`);
  }
  if (production && !env.POSTMARK_SERVER_TOKEN)
    problems.push("POSTMARK_SERVER_TOKEN is required in production (without it mail only reaches the local outbox)");
  const mailFrom = env.MAIL_FROM || "Orderline <no-reply@orderline.local>";
  if (!/^[^\r\n]*<?[^\s@<>]+@[^\s@<>]+>?$/.test(mailFrom)) problems.push(`MAIL_FROM must be an address or "Name <address>" (got "${env.MAIL_FROM}")`);
  const runWorker = boolean(env, "RUN_WORKER", true, problems);
  const introspection = boolean(env, "INTROSPECTION", !production, problems);
  const graphiql = boolean(env, "GRAPHIQL", !production && introspection, problems);
  // Anyone who can see an attempt's id can mark it paid through /dev/checkout: never by accident.
  const devPaymentProvider = boolean(env, "DEV_PAYMENT_PROVIDER", !production, problems);
  if (devPaymentProvider && production) problems.push("DEV_PAYMENT_PROVIDER cannot be on in production");
  const providerUrl = env.PAYMENT_PROVIDER_URL ? env.PAYMENT_PROVIDER_URL.replace(/\/+$/, "") : undefined;
  if (providerUrl && !/^https?:\/\/[^\s]+$/.test(providerUrl)) problems.push("PAYMENT_PROVIDER_URL must be an http(s) URL");
  const jobRetryBaseMs = integer(env, "JOB_RETRY_BASE_MS", 30_000, 10, 3_600_000, problems);
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(metricsToken)) {
    problems.push("METRICS_TOKEN must be 16 to 200 visible ASCII characters without spaces");
  }
  const workerHeartbeatTimeoutMs = integer(env, "WORKER_HEARTBEAT_TIMEOUT_MS", 30_000, 1_000, 3_600_000, problems);
  const fieldSuggestions = boolean(env, "FIELD_SUGGESTIONS", !production, problems);
  const statementTimeoutMs = integer(env, "STATEMENT_TIMEOUT_MS", 5_000, 0, 600_000, problems);
  const requestTimeoutMs = integer(env, "REQUEST_TIMEOUT_MS", 10_000, 100, 600_000, problems);
  const webhookAllowPrivate = env.WEBHOOK_ALLOW_PRIVATE ? boolean(env, "WEBHOOK_ALLOW_PRIVATE", false, problems) : production ? false : ("loopback" as const);
  const devRoutes = (env.DEV_ROUTES || "local") as Config["devRoutes"];
  if (!["local", "open"].includes(devRoutes)) problems.push(`DEV_ROUTES must be local or open (got "${env.DEV_ROUTES}")`);
  if (devRoutes === "open" && production) problems.push("DEV_ROUTES=open cannot be used in production");
  const wsMaxPerAddress = integer(env, "WS_MAX_PER_ADDRESS", 200, 1, 1_000_000, problems);
  const wsIdleTimeoutMs = integer(env, "WS_IDLE_TIMEOUT_MS", 60_000, 500, 86_400_000, problems);
  const wsCompilesPerMinute = integer(env, "WS_COMPILES_PER_MINUTE", 10, 0, 100_000, problems);
  const rateLimitScale = integer(env, "RATE_LIMIT_SCALE", 1, 1, 10_000, problems);
  const queryMaxCost = integer(env, "QUERY_MAX_COST", 5_000, 100, 1_000_000, problems);
  if (graphiql && !introspection) problems.push("GRAPHIQL=true needs INTROSPECTION (GraphiQL reads the schema by introspection)");

  const authSecret = secret(env, "AUTH_SECRET", production, dataDir, problems);
  const paymentWebhookSecret = secret(env, "PAYMENT_WEBHOOK_SECRET", production, dataDir, problems);

  if (problems.length) throw new ConfigError(problems);
  return {
    nodeEnv,
    port,
    dataDir,
    databaseUrl,
    publicUrl,
    authSecret,
    paymentWebhookSecret,
    orderTtlMinutes,
    trustProxy,
    logLevel,
    devPaymentProvider,
    paymentProvider: { url: providerUrl, apiKey: env.PAYMENT_PROVIDER_API_KEY || undefined },
    mail: { postmarkServerToken: env.POSTMARK_SERVER_TOKEN || undefined, postmarkApiUrl, from: mailFrom },
    runWorker,
    graphiql,
    jobRetryBaseMs,
    metricsToken,
    workerHeartbeatTimeoutMs,
    introspection,
    fieldSuggestions,
    statementTimeoutMs,
    requestTimeoutMs,
    webhookAllowPrivate,
    devRoutes,
    wsMaxPerAddress,
    wsIdleTimeoutMs,
    wsCompilesPerMinute,
    rateLimitScale,
    queryMaxCost,
  };
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  problems.push(`${name} must be true or false (got "${raw}")`);
  return fallback;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | number | string {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^[\w.:/, -]+$/.test(raw)) return raw; // addresses, CIDRs or names like "loopback"
  problems.push(`TRUST_PROXY must be true, false, a hop count or a list of addresses (got "${raw}")`);
  return false;
}

function secret(env: NodeJS.ProcessEnv, name: string, production: boolean, dataDir: string, problems: string[]) {
  const raw = env[name];
  if (raw) {
    if (raw.length < MIN_SECRET_LENGTH) problems.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters`);
    return raw;
  }
  if (production) {
    problems.push(`${name} is required in production`);
    return "";
  }
  // Development: generate once and keep it beside the data so tokens stay valid across restarts.
  const file = join(dataDir, `${name.toLowerCase()}.txt`);
  try {
    if (existsSync(file)) return readFileSync(file, "utf8").trim();
    mkdirSync(dataDir, { recursive: true });
    const value = randomBytes(32).toString("base64url");
    writeFileSync(file, value, { mode: 0o600 });
    return value;
  } catch (e) {
    problems.push(`${name} is unset and could not be kept in DATA_DIR (${(e as Error).message})`);
    return "";
  }
}
