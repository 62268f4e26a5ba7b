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
export const ENCODED_MESSAGE = "request body must not be compressed: Content-Encoding is not accepted";
export const CHARSET_MESSAGE = "request body must be JSON in UTF-8 (charset=utf-8)";

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

/** Answers 413 with `body` at once, then discards the rest of the upload (see refuseUpload). */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, body: unknown): void {
  refuseUpload(req, res, 413, body);
}

/**
 * Answers `status` with `body` at once, then discards the rest of the upload like nginx's lingering
 * close. Closing straight away (as this did before) makes the kernel reset a connection that still
 * has unread data, and the reset destroys the answer at a client that is still uploading: undici
 * reported `EPIPE` / "other side closed" instead of the 413. Used by /graphql's reader and every other route.
 */
function refuseUpload(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  requestIdOf(req, res);
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json), connection: "close" });
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

/**
 * The one reader of /graphql's request bodies; answers the refusals itself (coded JSON errors) and
 * then resolves undefined:
 * - 415 for a Content-Encoding other than identity: bodies are not inflated (a 1 MiB gzip body can
 *   inflate to 1 GiB), so a compressed body is refused rather than read as text;
 * - 413 past `limit` bytes, announced (before reading) or while reading (refuseTooLarge);
 * - `application/json` (any parameters): 415 for a charset other than UTF-8; 400 NOT_JSON for a
 *   body that is not a JSON object or array (body-parser's strict mode); empty is `{}`.
 * Other content types: the body is read (bounded) and dropped, `{ body: undefined }` (Apollo then
 * refuses the request: CSRF prevention, or no JSON body). A request without a body other than a
 * POST (GET) is not read.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, path: string, limit: number): Promise<{ body: unknown } | undefined> {
  const announced = req.headers["content-length"];
  if (req.method !== "POST" && announced === undefined && req.headers["transfer-encoding"] === undefined) return { body: undefined };
  const encoding = req.headers["content-encoding"]?.trim().toLowerCase();
  if (encoding && encoding !== "identity") return void refuseUpload(req, res, 415, errorBody(path, ENCODED_MESSAGE));
  if (Number(announced) > limit) return void refuseTooLarge(req, res, tooLargeBody(path)); // answers now, then discards the rest (bounded)
  const type = jsonType(req.headers["content-type"]);
  if (type === "other-charset") return void refuseUpload(req, res, 415, errorBody(path, CHARSET_MESSAGE));
  const chunks: Buffer[] = [];
  let size = 0;
  const complete = await new Promise<boolean>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData).off("end", onEnd);
      resolve(false);
    };
    const onEnd = () => resolve(true);
    req.on("data", onData).on("end", onEnd).on("error", reject);
  });
  if (!complete) return void refuseTooLarge(req, res, tooLargeBody(path));
  if (type !== "json" || req.method !== "POST") return { body: undefined };
  if (size === 0) return { body: {} }; // as body-parser: an empty body is an empty object
  const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, size).toString("utf8");
  const first = text.trimStart()[0];
  try {
    if (first !== "{" && first !== "[") throw new SyntaxError("not an object or array");
    return { body: JSON.parse(text) };
  } catch {
    requestIdOf(req, res);
    sendJson(res, 400, errorBody(path, NOT_JSON_MESSAGE));
    return undefined;
  }
}

/** `application/json` (in UTF-8, the default), the same with another charset, or another type. */
function jsonType(contentType: string | undefined): "json" | "other-charset" | "other" {
  if (contentType === "application/json") return "json"; // the common case, without splitting
  if (contentType === undefined) return "other";
  const [type, ...params] = contentType.split(";");
  if (type.trim().toLowerCase() !== "application/json") return "other";
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    return charset === "utf-8" ? "json" : "other-charset";
  }
  return "json";
}
