import type { RequestHandler } from "express";
import type { IncomingMessage, ServerResponse } from "node:http";
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
 * After a 413, the rest of the upload is read and thrown away up to these bounds (whichever comes
 * first), then the connection is cut: a client may not make us read forever, but a client that is
 * still sending (Node's fetch, browsers) must get to read the answer.
 */
export const DISCARD_AFTER_413 = { bytes: 32 * 1024 * 1024, ms: 10_000 } as const;

/**
 * The body of an answer refusing a request before GraphQL runs (too large, not JSON, a transport
 * fault): a coded GraphQL error on /graphql, `{ error }` elsewhere. `requestId` goes with a 500.
 */
export function errorBody(path: string, message: string, code = "BAD_REQUEST", requestId?: string): unknown {
  return path.startsWith("/graphql")
    ? { errors: [{ message, extensions: { code, ...(requestId ? { requestId } : {}) } }] }
    : { error: message, ...(requestId ? { requestId } : {}) };
}

export const NOT_JSON_MESSAGE = "request body is not valid JSON";

/** The 413 answer's body. */
export const tooLargeBody = (path: string): unknown => errorBody(path, "request body too large");

/** Answers `status` with `body` as JSON (what Express's `res.json` does, without Express). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(json));
  res.end(json);
}

/**
 * Answers 413 with `body` at once, then discards the rest of the upload like nginx's lingering
 * close. Closing straight away (as this did before) makes the kernel reset a connection that still
 * has unread data, and the reset destroys the answer at a client that is still uploading: undici
 * reported `EPIPE` / "other side closed" instead of the 413. Used by both /graphql paths (fast and
 * Express) and every other route.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, body: unknown): void {
  requestIdOf(req, res);
  const json = JSON.stringify(body);
  res.writeHead(413, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json), connection: "close" });
  // Written but not ended: the client has the whole answer (its length is announced), while Node,
  // which closes a `Connection: close` socket as soon as the response ends, waits for the end below.
  res.write(json);
  let read = 0;
  const finish = () => {
    cleanup();
    res.end(); // the upload is fully read: Node now closes the connection without a reset
  };
  const cut = () => {
    cleanup();
    req.socket.destroy(); // over the bound (or broken): stop reading
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > DISCARD_AFTER_413.bytes) cut();
  };
  const timer = setTimeout(cut, DISCARD_AFTER_413.ms).unref();
  function cleanup() {
    clearTimeout(timer);
    req.off("data", onData).off("end", finish).off("error", cut).off("close", cleanup);
  }
  if (req.readableEnded) return finish();
  req.on("data", onData).on("end", finish).on("error", cut).on("close", cleanup);
  req.resume();
}

/**
 * Answers 413 at once when `Content-Length` announces more than the route accepts, without reading
 * the body first (body-parser would drain the whole upload before answering); the rest is then
 * discarded up to a bound (see refuseTooLarge). Bodies without a length are limited while reading
 * by each route's parser. `limits` maps a path prefix to its byte limit; the first match wins.
 */
export function rejectLargeBodies(limits: [prefix: string, bytes: number][]): RequestHandler {
  return (req, res, next) => {
    const announced = Number(req.get("content-length"));
    if (!Number.isFinite(announced)) return next();
    const limit = limits.find(([prefix]) => req.path.startsWith(prefix))?.[1];
    if (limit === undefined || announced <= limit) return next();
    refuseTooLarge(req, res, tooLargeBody(req.path));
  };
}
