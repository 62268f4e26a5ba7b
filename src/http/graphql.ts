import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type { Logger } from "pino";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Config } from "../config/env";
import { AppError, ErrorCode } from "../errors";
import { logger } from "../logger";
import { metricsPlugin } from "../observability/graphql-plugin";
import type { GraphQLContext } from "../resolvers/context";
import { resolveViewer } from "../services/auth/viewer";
import type { Sql } from "../db/sql";
import { createLoaders, type Loaders } from "../services/loaders";
import { INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, errorMasker, isClientError, isDatabaseUnavailable } from "./errors";
import { engineGateway, enginePlugin } from "./apollo-engine";
import type { GraphQLEngine } from "./engine";
import { parseOptions } from "./limits";
import { requestIdOf } from "./request-id";

/** Logs each operation (name, duration, error codes) and every unexpected error with its request id. */
function loggingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors, contextValue: ctx }) {
          for (const err of errors) {
            if (!isClientError(err)) ctx.log.error({ err: err.originalError ?? err, path: err.path }, "unexpected error");
          }
        },
        async willSendResponse({ response, operationName, errors }) {
          if (response.body.kind === "single") {
            for (const e of response.body.singleResult.errors ?? []) {
              if (e.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
                (e.extensions as Record<string, unknown>).requestId = contextValue.requestId;
              }
            }
          }
          if (!logger().isLevelEnabled("info")) return; // the hot path builds nothing it will not write (not even the child logger)
          contextValue.log.info(
            {
              operation: operationName ?? null,
              ms: Math.round(performance.now() - started),
              errors: errors?.map((e) => e.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR),
            },
            "graphql",
          );
        },
      };
    },
  };
}

/**
 * GraphQL over HTTP: a request that fails before execution (parse, validation, variables) is 400
 * for `application/graphql-response+json` clients, but for clients that accept only
 * `application/json` the spec recommends 200 with the errors (legacy clients treat a 400 as a
 * network failure and drop the error body). Apollo answers 400 either way; this adjusts it.
 */
function jsonClientStatusPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          const requestError = response.body.kind === "single" && response.body.singleResult.data === undefined;
          const accept = request.http?.headers.get("accept") ?? "";
          if (response.http.status === 400 && requestError && !accept.includes("application/graphql-response+json")) {
            response.http.status = 200;
          }
        },
      };
    },
  };
}

/**
 * Apollo as the HTTP protocol layer, over the engine (apollo-engine.ts): documents, the cost check
 * and execution are the engine's; Apollo keeps no document store of its own.
 */
export async function createGraphQLServer(engine: GraphQLEngine, httpServer: Server, config: Config) {
  const apollo = new ApolloServer<GraphQLContext>({
    gateway: engineGateway(engine),
    // The engine's cache holds the documents (enginePlugin); Apollo's would be a second, unbounded by ours.
    documentStore: null,
    formatError: errorMasker(config),
    includeStacktraceInErrorResponses: false,
    // INTROSPECTION is applied by our validation rules, the same on HTTP and WebSocket (limits.ts).
    introspection: true,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // No client of ours uses automatic persisted queries; Apollo then answers any attempt with its
    // coded PERSISTED_QUERY_NOT_SUPPORTED (with them on, malformed ones came back uncoded).
    persistedQueries: false,
    stopOnTerminationSignals: false, // main.ts owns shutdown order (HTTP, then workers, then the database)
    // Compact JSON (Apollo pretty-prints by default: twice the bytes and the time for a page of orders).
    stringifyResult: (value) => JSON.stringify(value),
    // Apollo parses and validates only documents the engine found invalid (to word its errors), with the same limits.
    validationRules: engine.limits.rules,
    parseOptions,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; the plugin would wrap every field resolution.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      enginePlugin(engine),
      jsonClientStatusPlugin(),
      loggingPlugin(),
      metricsPlugin(),
    ],
  });
  await apollo.start();
  return apollo;
}

export type ContextFactory = (req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<GraphQLContext>;

/** One HTTP request's context: its request id, an EntityManager fork, loaders and the resolved caller. */
export function contextFactory(orm: MikroORM, sql: Sql, config: Config): ContextFactory {
  return async (req, res, clientIp) => {
    const requestId = requestIdOf(req, res);
    // The EntityManager fork, the loaders and the child logger are made on first use: a page of
    // orders (read model on its own pool, account cached) needs none of the first and, below info
    // level, not the last.
    let em: EntityManager | undefined;
    let loaders: Loaders | undefined;
    let log: Logger | undefined;
    const getEm = () => (em ??= orm.em.fork());
    let viewer;
    try {
      viewer = await resolveViewer(getEm, config.authSecret, { authorization: header(req, "authorization"), apiKey: header(req, "x-api-key") });
    } catch (err) {
      if (err instanceof AppError) throw err; // 401 for invalid credentials
      // Runs before Apollo's request plugins: log and mask here, with the request id.
      logger().error({ err, requestId }, "resolving the caller failed");
      if (isDatabaseUnavailable(err)) {
        throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, { http: { status: 503, headers: new Map([["retry-after", "5"]]) } });
      }
      throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE, { requestId, http: { status: 500 } });
    }
    return {
      sql,
      viewer,
      config,
      requestId,
      clientIp,
      get em() {
        return getEm();
      },
      set em(value: EntityManager) {
        em = value;
      },
      get loaders() {
        return (loaders ??= createLoaders(getEm, sql));
      },
      set loaders(value: Loaders) {
        loaders = value;
      },
      get log() {
        return (log ??= logger().child({ requestId }));
      },
      set log(value: Logger) {
        log = value;
      },
    };
  };
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
};
