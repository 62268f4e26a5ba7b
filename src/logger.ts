import pino, { type Logger } from "pino";

let root: Logger = pino({ level: process.env.LOG_LEVEL || "info" });

/** The process-wide logger (pino, JSON lines). `initLogger` sets the level from the config. */
export function logger(): Logger {
  return root;
}

export function initLogger(level: string): Logger {
  root = pino({ level, base: { service: "orderline" } });
  return root;
}
