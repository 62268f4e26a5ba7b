import pino, { type Logger, type LoggerOptions } from "pino";

/**
 * Database errors carry the failed statement with its values (names, emails) in `message` and
 * the offending values in `detail`: log the reason, the SQLSTATE, table and constraint instead.
 */
function errSerializer(err: unknown) {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const e = err as { sqlState?: string; code?: string; message?: string };
  const fromDatabase = typeof e?.sqlState === "string" || (typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code));
  if (fromDatabase && typeof out.message === "string") {
    out.message = out.message.includes(" - ") ? out.message.slice(out.message.lastIndexOf(" - ") + 3) : out.message;
    for (const key of ["detail", "query", "params", "sql", "where", "sqlMessage"]) delete out[key];
    if (typeof out.stack === "string")
      out.stack = out.stack
        .split("\n")
        .filter((l) => /^\s+at /.test(l))
        .join("\n");
  }
  return out;
}

const options = (level: string): LoggerOptions => ({ level, base: { service: "orderline" }, serializers: { err: errSerializer } });

// Until `initLogger` runs with the validated config, log at "info" (LOG_LEVEL is not trusted yet).
let root: Logger = pino(options("info"));

/** The process-wide logger (pino, JSON lines). */
export function logger(): Logger {
  return root;
}

/** Called once with the validated LOG_LEVEL. */
export function initLogger(level: string): Logger {
  root = pino(options(level));
  return root;
}
