import pino, { type Logger } from "pino";

// Until `initLogger` runs with the validated config, log at "info" (LOG_LEVEL is not trusted yet).
let root: Logger = pino({ level: "info", base: { service: "orderline" } });

/** The process-wide logger (pino, JSON lines). */
export function logger(): Logger {
  return root;
}

/** Called once with the validated LOG_LEVEL. */
export function initLogger(level: string): Logger {
  root = pino({ level, base: { service: "orderline" } });
  return root;
}
