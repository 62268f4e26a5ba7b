import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

const INCOMING = /^[\w.:-]{8,100}$/;
const REQUEST_ID = Symbol("requestId");

/**
 * The request's id: a sane incoming X-Request-Id or a new UUID; echoed in the response header.
 * Works on plain Node requests (the fast GraphQL path) as on Express's.
 */
export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const held = res as ServerResponse & { [REQUEST_ID]?: string };
  const existing = held[REQUEST_ID];
  if (existing) return existing;
  const incoming = req.headers["x-request-id"];
  const id = typeof incoming === "string" && INCOMING.test(incoming) ? incoming : randomUUID();
  held[REQUEST_ID] = id;
  res.setHeader("X-Request-Id", id);
  return id;
}
