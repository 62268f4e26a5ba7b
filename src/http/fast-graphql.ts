import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import proxyAddr from "proxy-addr";
import { logger } from "../logger";
import type { GraphQLContext } from "../resolvers/context";
import { BODY_LIMITS, refuseTooLarge, tooLargeBody } from "./body-limit";
import { INTERNAL_MESSAGE } from "./errors";
import type { ContextFactory } from "./graphql";
import { SUBSCRIPTION_OVER_HTTP, hasSubscription } from "./limits";
import { requestIdOf } from "./request-id";

type TrustFn = (address: string, hop: number) => boolean;

const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * `POST /graphql` with a JSON body, straight from Node's HTTP server to Apollo's
 * `executeHTTPGraphQLRequest` — the same call `@as-integrations/express5` makes, without Express's
 * router, body-parser and `res.send` (which hashes every response for an ETag nobody uses on a
 * POST). Everything Apollo does (CSRF prevention, plugins, limits, masking, status codes) is
 * unchanged; so are the answers to bodies that are too large (413) or not JSON (400). Returns
 * false for anything else (GET, other paths, content types or charsets), which Express serves.
 */
export function fastGraphQL(apollo: ApolloServer<GraphQLContext>, makeContext: ContextFactory, trustProxy: TrustFn) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || (req.url !== "/graphql" && !req.url?.startsWith("/graphql?"))) return false;
    if (!JSON_TYPE.test(req.headers["content-type"] ?? "")) return false;
    void serve(req, res).catch((err) => {
      const requestId = requestIdOf(req, res);
      logger().error({ err, requestId }, "unhandled error on the GraphQL fast path");
      if (!res.headersSent) send(res, 500, { errors: [{ message: INTERNAL_MESSAGE, extensions: { code: "INTERNAL_SERVER_ERROR", requestId } }] });
      else res.destroy();
    });
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const body = await readJson(req, res);
    if (body === undefined) return; // already answered
    if (hasSubscription((body as { query?: unknown }).query)) {
      requestIdOf(req, res);
      return send(res, 400, { errors: [{ message: SUBSCRIPTION_OVER_HTTP, extensions: { code: "BAD_REQUEST" } }] });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const q = req.url!.indexOf("?");
    const clientIp = proxyAddr(req, trustProxy);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: "POST", headers, search: q >= 0 ? req.url!.slice(q) : "", body },
      context: () => makeContext(req, res, clientIp),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      // Encoded once: measuring the string and then writing it would walk it twice.
      const bytes = Buffer.from(response.body.string, "utf8");
      res.setHeader("content-length", bytes.length);
      res.end(bytes);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

/** The body as parsed JSON (an object or array, like body-parser's strict mode), or undefined once it has answered 413/400. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const limit = BODY_LIMITS.graphql;
  const tooLarge = () => {
    refuseTooLarge(req, res, tooLargeBody("/graphql")); // answers now, then discards the rest (bounded)
    return undefined;
  };
  if (Number(req.headers["content-length"]) > limit) return tooLarge();
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
  if (!complete) return tooLarge();
  if (size === 0) return {}; // as body-parser: an empty body is an empty object
  const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, size).toString("utf8");
  const first = text.trimStart()[0];
  try {
    if (first !== "{" && first !== "[") throw new SyntaxError("not an object or array");
    return JSON.parse(text);
  } catch {
    requestIdOf(req, res);
    send(res, 400, { errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(json));
  res.end(json);
}
