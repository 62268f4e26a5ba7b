import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import { logger } from "../logger";
import type { GraphQLContext } from "../resolvers/context";
import { BODY_LIMITS, errorBody, readJsonBody, sendJson } from "./body-limit";
import type { GraphQLEngine } from "./engine";
import { INTERNAL_MESSAGE } from "./errors";
import type { ContextFactory } from "./graphql";
import { SUBSCRIPTION_OVER_HTTP } from "./limits";
import { requestIdOf } from "./request-id";

/** Serves one HTTP request to /graphql; `clientIp` as resolved with TRUST_PROXY. */
export type GraphQLHttpHandler = (req: IncomingMessage, res: ServerResponse, clientIp: string) => void;

/** `POST /graphql` (any content type): server.ts hands it here straight from Node's HTTP server, without Express. */
export const isGraphQLPost = (req: IncomingMessage): boolean => req.method === "POST" && (req.url === "/graphql" || req.url?.startsWith("/graphql?") === true);

/**
 * `/graphql` over HTTP, the one way, for every method: server.ts hands it `POST /graphql` without
 * Express's router and `res.send` (which hashes every response for an ETag nobody uses on a POST),
 * Express everything else on the path (GET, other methods and spellings; GraphiQL's page aside).
 *
 * 1. The body through the one reader (body-limit.ts's `readJsonBody`: 415 for a Content-Encoding,
 *    413 past 1 MiB, 400 for JSON that does not parse); GET has none.
 * 2. A subscription is refused (it goes over WebSocket); its text is parsed through the engine's cache.
 * 3. Apollo's `executeHTTPGraphQLRequest` (CSRF prevention, plugins, status codes, masking), which
 *    gets its documents, cost check and execution from the engine (apollo-engine.ts); the answer
 *    is written back.
 */
export function graphqlHttp(apollo: ApolloServer<GraphQLContext>, engine: GraphQLEngine, makeContext: ContextFactory): GraphQLHttpHandler {
  return (req, res, clientIp) => {
    void handle(req, res, clientIp).catch((err) => {
      const requestId = requestIdOf(req, res);
      logger().error({ err, requestId }, "unhandled error serving /graphql");
      if (!res.headersSent) sendJson(res, 500, errorBody("/graphql", INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", requestId));
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, clientIp: string) {
    const read = await readJsonBody(req, res, "/graphql", BODY_LIMITS.graphql);
    if (!read) return; // already answered
    const q = req.url!.indexOf("?");
    const search = q >= 0 ? req.url!.slice(q) : "";
    const query = req.method === "GET" ? queryParameter(search) : (read.body as { query?: unknown } | undefined)?.query;
    // Only texts that mention the word are parsed here (through the engine's cache, which Apollo then uses).
    if (typeof query === "string" && query.includes("subscription") && engine.holdsSubscription(query)) {
      requestIdOf(req, res);
      return sendJson(res, 400, errorBody("/graphql", SUBSCRIPTION_OVER_HTTP));
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method!, headers, search, body: read.body },
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

/** A GET's `query` parameter when given once (Apollo refuses a repeated one). */
function queryParameter(search: string): string | undefined {
  if (!search.includes("subscription")) return undefined;
  const values = new URLSearchParams(search).getAll("query");
  return values.length === 1 ? values[0] : undefined;
}
