import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";

const INCOMING = /^[\w.:-]{8,100}$/;

/** The request's id: a sane incoming X-Request-Id or a new UUID; echoed in the response header. */
export function requestIdOf(req: Request, res: Response): string {
  const existing = res.locals.requestId as string | undefined;
  if (existing) return existing;
  const incoming = req.get("x-request-id");
  const id = incoming && INCOMING.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader("X-Request-Id", id);
  return id;
}
