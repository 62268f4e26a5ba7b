import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import proxyAddr from "proxy-addr";
import { logger } from "../logger";
import type { GraphQLContext } from "../resolvers/context";
import { BODY_LIMITS, NOT_JSON_MESSAGE, errorBody, refuseTooLarge, sendJson, tooLargeBody } from "./body-limit";
import { INTERNAL_MESSAGE } from "./errors";
import type { ContextFactory } from "./graphql";
import { SUBSCRIPTION_OVER_HTTP, hasSubscription } from "./limits";
import { requestIdOf } from "./request-id";

type TrustFn = (address: string, hop: number) => boolean;

const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * `/graphql` over HTTP, the one way: a request with its body (parsed JSON, or Express's for GET and
 * other content types) goes to Apollo's `executeHTTPGraphQLRequest` (the call
 * `@as-integrations/express5` makes) and the answer is written back; a subscription is refused
 * first (it goes over WebSocket). Apollo does the rest (CSRF prevention, plugins, limits, masking,
 * status codes), and executes with the engine (jit-executor.ts, engine.ts).
 */
export type ServeGraphQL = (req: IncomingMessage, res: ServerResponse, body: unknown, query: unknown, clientIp: string) => Promise<void>;

export function serveGraphQL(apollo: ApolloServer<GraphQLContext>, makeContext: ContextFactory): ServeGraphQL {
  return async (req, res, body, query, clientIp) => {
    if (hasSubscription(query)) {
      requestIdOf(req, res);
      return sendJson(res, 400, errorBody("/graphql", SUBSCRIPTION_OVER_HTTP));
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const q = req.url!.indexOf("?");
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method!, headers, search: q >= 0 ? req.url!.slice(q) : "", body },
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
  };
}

/**
 * `POST /graphql` with a JSON body, straight from Node's HTTP server to `serveGraphQL`, without
 * Express's router, body-parser and `res.send` (which hashes every response for an ETag nobody uses
 * on a POST). The answers to bodies that are too large (413) or not JSON (400) are Express's.
 * Returns false for anything else (GET, other paths, content types or charsets), which Express
 * serves (graphqlMiddleware), through the same `serveGraphQL`.
 */
export function fastGraphQL(serve: ServeGraphQL, trustProxy: TrustFn) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || (req.url !== "/graphql" && !req.url?.startsWith("/graphql?"))) return false;
    if (!JSON_TYPE.test(req.headers["content-type"] ?? "")) return false;
    void handle(req, res).catch((err) => {
      const requestId = requestIdOf(req, res);
      logger().error({ err, requestId }, "unhandled error on the GraphQL fast path");
      if (!res.headersSent) sendJson(res, 500, errorBody("/graphql", INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", requestId));
      else res.destroy();
    });
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readJson(req, res);
    if (body === undefined) return; // already answered
    await serve(req, res, body, (body as { query?: unknown }).query, proxyAddr(req, trustProxy));
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
    sendJson(res, 400, errorBody("/graphql", NOT_JSON_MESSAGE));
    return undefined;
  }
}
