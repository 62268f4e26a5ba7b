import type { RequestHandler } from "express";
import { requestIdOf } from "./request-id";

/** Request body limits in bytes (the parsers of these routes use the same numbers). */
export const BODY_LIMITS = {
  graphql: 1024 * 1024,
  paymentWebhook: 256 * 1024,
  devCheckout: 1024,
  /** Every other route (none of them reads a body). */
  other: 1024 * 1024,
} as const;

/**
 * Answers 413 at once when `Content-Length` announces more than the route accepts, without reading
 * the body (body-parser would drain the whole upload before answering) and closes the connection
 * so the rest is never read. Bodies without a length are limited while reading by each route's
 * parser. `limits` maps a path prefix to its byte limit; the first match wins.
 */
export function rejectLargeBodies(limits: [prefix: string, bytes: number][]): RequestHandler {
  return (req, res, next) => {
    const announced = Number(req.get("content-length"));
    if (!Number.isFinite(announced)) return next();
    const limit = limits.find(([prefix]) => req.path.startsWith(prefix))?.[1];
    if (limit === undefined || announced <= limit) return next();
    requestIdOf(req, res);
    res.setHeader("Connection", "close");
    if (req.path.startsWith("/graphql")) {
      res.status(413).json({ errors: [{ message: "request body too large", extensions: { code: "BAD_REQUEST" } }] });
    } else {
      res.status(413).json({ error: "request body too large" });
    }
  };
}
