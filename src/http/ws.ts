import type { MikroORM } from "@mikro-orm/postgresql";
import { GraphQLError, OperationTypeNode, getOperationAST, type DocumentNode } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import proxyAddr from "proxy-addr";
import { WebSocketServer, type WebSocket } from "ws";
import type { Config } from "../config/env";
import { AppError } from "../errors";
import { logger } from "../logger";
import type { GraphQLContext } from "../resolvers/context";
import { NOBODY, resolveViewer, type Viewer } from "../services/auth/viewer";
import type { Sql } from "../db/sql";
import { createLoaders } from "../services/loaders";
import { UNAVAILABLE_MESSAGE, errorMasker, isClientError, isDatabaseUnavailable } from "./errors";
import type { GraphQLEngine } from "./engine";
import { recordErrorCode, recordOperation, recordSubscriptionExecution } from "../observability/metrics";
import { sessionsMark, sweepRevokedKeys, trackSession } from "./ws-sessions";
import { sharedSubscribe } from "./ws-subscribe";
import { CompileBudget, IdleTimer, SocketsPerAddress } from "./ws-limits";
import { addressKey } from "../rate-limit/address";

export const CONNECTION_INIT_WAIT_MS = 3_000; // 3 seconds to authenticate after connecting
export const MAX_PAYLOAD_BYTES = 64 * 1024; // 64 KiB per message
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 20;
/** How often the API keys of open sockets are checked for a revocation this instance did not hear of. */
export const KEY_SWEEP_MS = 60_000;

interface SocketState {
  viewer: Viewer;
  subscriptions: Set<string>;
  clientIp: string;
  /** Subscriptions executing, for the "subscription ended" log line. */
  live: Map<string, { requestId: string; operation: string | null; started: number }>;
  /** Runs while the socket has no subscription (WS_IDLE_TIMEOUT_MS, close 4408). */
  idle: IdleTimer;
}
type Extra = { request: IncomingMessage; socket: WebSocket; state?: SocketState };
type TrustFn = (address: string, hop: number) => boolean;

let openSockets = 0;
export const openSocketCount = () => openSockets;

/**
 * graphql-ws on the HTTP server's `/graphql`. The socket carries subscriptions only (queries and
 * mutations go over HTTP, where limits and masking apply). Authentication is in the
 * `connection_init` payload (`{ "authorization": "Bearer <token>" }` or `{ "apiKey": "..." }`); a bad
 * credential closes the socket with 4403, and so does the token's expiry or end (logOutEverywhere). Authorisation is checked when subscribing. Errors are
 * masked exactly as over HTTP.
 *
 * The client address is resolved as for HTTP (`trustProxy`: Express's compiled TRUST_PROXY). At
 * most WS_MAX_PER_ADDRESS sockets per address (IPv6 by /64): the next upgrade is answered 429. A
 * socket without a subscription for WS_IDLE_TIMEOUT_MS is closed with 4408.
 */
export function attachWebSocket(httpServer: Server, engine: GraphQLEngine, orm: MikroORM, sql: Sql, config: Config, trustProxy: TrustFn) {
  const { schema } = engine;
  const clientIpOf = (req: IncomingMessage) => proxyAddr(req, trustProxy);
  const perAddress = new SocketsPerAddress(config.wsMaxPerAddress);
  const wss = new WebSocketServer({
    server: httpServer,
    path: "/graphql",
    maxPayload: MAX_PAYLOAD_BYTES,
    verifyClient: ({ req }, done) => {
      if (perAddress.take(addressKey(clientIpOf(req)), req.socket)) return done(true);
      done(false, 429, "Too many WebSocket connections from this address");
    },
  });
  wss.on("connection", (socket) => {
    openSockets++;
    socket.once("close", () => openSockets--);
    guardProtocol(socket);
  });

  // The same masking as HTTP (formatError); unexpected errors are logged under a request id.
  const maskError = errorMasker(config);
  const mask = (errors: readonly GraphQLError[], requestId: string) =>
    errors.map((raw) => {
      // Variables that do not fit their types: graphql-js reports them without a code (Apollo adds
      // BAD_USER_INPUT on HTTP); the same code here.
      const e =
        !raw.path && !raw.extensions?.code && raw.message.startsWith('Variable "$')
          ? new GraphQLError(raw.message, { nodes: raw.nodes, extensions: { code: "BAD_USER_INPUT" } })
          : raw;
      if (!isClientError(e)) logger().error({ err: e.originalError ?? e, requestId, transport: "ws" }, "unexpected error");
      const masked = maskError(e.toJSON(), e);
      if (masked.extensions?.code === "INTERNAL_SERVER_ERROR") (masked.extensions as Record<string, unknown>).requestId = requestId;
      recordErrorCode(masked.extensions?.code);
      return masked;
    });

  // Each event is executed once per (operation, variables, viewer) and instance (public fields such
  // as availabilityChanged: once per operation and variables, for every viewer), with graphql-jit,
  // in a context of its own (fresh EntityManager and loaders: the subscriber's lives as long as
  // the socket, its caches would go stale).
  // New documents compiled by graphql-jit per address and minute (see CompileBudget).
  const compileBudget = new CompileBudget(config.wsCompilesPerMinute);
  const socketOf = new WeakMap<object, SocketState>(); // a subscription's context → its socket
  const subscribe = sharedSubscribe({
    compiled: engine.compiled,
    deadlineMs: engine.limits.deadlineMs,
    onExecution: recordSubscriptionExecution,
    executionContext(subscriber) {
      const em = orm.em.fork();
      return { ...subscriber, em, loaders: createLoaders(em, sql) };
    },
    mayCompile(subscriber) {
      const state = socketOf.get(subscriber);
      return !!state && compileBudget.take(addressKey(state.clientIp));
    },
  });
  /** A subscription ended or was refused: its slot frees, and a socket left without any starts its idle countdown. */
  const release = (state: SocketState | undefined, id: string) => {
    if (!state?.subscriptions.delete(id)) return; // refused before it took a slot: the countdown runs on
    if (state.subscriptions.size === 0) state.idle.start();
  };

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      subscribe,
      connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const authorization = typeof params.authorization === "string" ? params.authorization : undefined;
        const apiKey = typeof params.apiKey === "string" ? params.apiKey : undefined;
        const mark = sessionsMark();
        try {
          const viewer = authorization || apiKey ? await resolveViewer(orm.em.fork(), config.authSecret, { authorization, apiKey }) : NOBODY;
          // Closes the socket with 4403 when its token expires or its session ends; refuses it (4403)
          // when that happened while the caller was being read.
          if (!trackSession(ctx.extra.socket, viewer, mark)) return false;
          const idle = new IdleTimer(ctx.extra.socket, config.wsIdleTimeoutMs);
          ctx.extra.state = { viewer, subscriptions: new Set(), clientIp: clientIpOf(ctx.extra.request), live: new Map(), idle };
          idle.start();
          return true;
        } catch (err) {
          if (!(err instanceof AppError)) logger().error({ err, transport: "ws" }, "resolving a socket's caller failed");
          // An outage is not a bad credential: graphql-ws closes with 4500 and this (safe) reason; clients retry.
          if (isDatabaseUnavailable(err)) throw new Error(UNAVAILABLE_MESSAGE);
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe(ctx, id, payload) {
        const state = ctx.extra.state!;
        let document: DocumentNode;
        let invalid: readonly GraphQLError[];
        try {
          ({ document, errors: invalid } = engine.documents.get(payload.query)); // parsed and validated once per text
        } catch (e) {
          recordOperation(null, "ws");
          // An error for this subscription (graphql-ws would close the whole socket with 4400).
          return [new GraphQLError(e instanceof GraphQLError ? e.message : "Syntax Error", { extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
        }
        const operation = getOperationAST(document, payload.operationName);
        recordOperation(operation, "ws");
        if (operation && operation.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [
            new GraphQLError("Only subscriptions go over WebSocket; send queries and mutations to POST /graphql", { extensions: { code: "BAD_REQUEST" } }),
          ];
        }
        // Validation first, as on HTTP: a document that is too deep is refused for its depth even
        // when it would also cost too much (nested lists are charged their bounds).
        if (invalid.length) return [...invalid];
        const refused = engine.check(document, payload.operationName, payload.variables);
        if (refused) return [refused];
        if (state.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
          return [new GraphQLError(`At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per connection`, { extensions: { code: "RATE_LIMITED" } })];
        }
        state.subscriptions.add(id);
        state.idle.stop();
        // Ready to execute: graphql-ws does not parse and validate it again.
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      context(ctx, id, _payload, args): GraphQLContext {
        const requestId = randomUUID();
        const state = ctx.extra.state!;
        const em = orm.em.fork();
        const log = logger().child({ requestId, transport: "ws" });
        const operation = getOperationAST(args.document, args.operationName)?.name?.value ?? null;
        state.live.set(id, { requestId, operation, started: performance.now() });
        log.info({ operation }, "subscription started");
        const context: GraphQLContext = { em, sql, viewer: state.viewer, config, requestId, clientIp: state.clientIp, loaders: createLoaders(em, sql), log };
        socketOf.set(context, state);
        return context;
      },
      onNext(_ctx, _id, _payload, args, result) {
        if (!result.errors?.length) return;
        return { ...result, errors: mask(result.errors, (args.contextValue as GraphQLContext).requestId) };
      },
      onError(ctx, id, _payload, errors) {
        // A refused subscription frees its slot (onComplete does not run for it).
        release(ctx.extra.state, id);
        // Parse and validation errors carry no code here (Apollo adds them on HTTP): add the same ones.
        const coded = errors.map((e) =>
          e.originalError || e.extensions?.code
            ? e
            : new GraphQLError(e.message, {
                nodes: e.nodes,
                extensions: {
                  code: e.message.startsWith("Syntax Error") && !/limit|exceeded/i.test(e.message) ? "GRAPHQL_PARSE_FAILED" : "GRAPHQL_VALIDATION_FAILED",
                },
              }),
        );
        return mask(coded, randomUUID());
      },
      onComplete(ctx, id) {
        const state = ctx.extra.state;
        release(state, id);
        const live = state?.live.get(id);
        if (live) {
          state!.live.delete(id);
          logger().info(
            { requestId: live.requestId, transport: "ws", operation: live.operation, ms: Math.round(performance.now() - live.started) },
            "subscription ended",
          );
        }
      },
    },
    wss,
  );

  const stopSweep = sweepRevokedKeys(sql, KEY_SWEEP_MS, (err) => logger().warn({ err }, "checking open sockets' API keys failed; will try again"));

  return {
    /** Closes every socket with 1001 (going away) and stops accepting new ones. */
    async close() {
      stopSweep();
      for (const client of wss.clients) client.close(1001, "Server shutting down");
      await disposable.dispose();
    },
  };
}

const SERVER_ONLY = /"type"\s*:\s*"(next|connection_ack|error)"/;

/**
 * Runs before graphql-ws's own listeners are added (its "connection" handler comes after ours) and
 * wraps them:
 * - a client message of a type only servers send (`next`, `connection_ack`, `error`) closes the
 *   socket with 4400, as the protocol asks for an invalid message (graphql-ws threw on it and
 *   closed with 4500, logging a stack);
 * - a message over the size limit is already closed with 1009 by `ws`; graphql-ws would also log
 *   it as an internal error, which it is not.
 */
function guardProtocol(socket: WebSocket) {
  const on = socket.on.bind(socket) as (event: string, listener: (...args: unknown[]) => void) => WebSocket;
  (socket as unknown as { on: typeof on }).on = (event, listener) => {
    if (event === "message") {
      return on(event, (data, ...rest) => {
        const text = String(data);
        const m = SERVER_ONLY.exec(text);
        if (m) {
          try {
            if ((JSON.parse(text) as { type?: unknown })?.type === m[1]) return socket.close(4400, `Unexpected message of type ${m[1]}`);
          } catch {
            // not JSON: graphql-ws answers 4400 itself
          }
        }
        listener(data, ...rest);
      });
    }
    if (event === "error") {
      return on(event, (err, ...rest) => {
        if ((err as { code?: string })?.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") return;
        listener(err, ...rest);
      });
    }
    return on(event, listener);
  };
}
