import type { MikroORM } from "@mikro-orm/postgresql";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { Config } from "../config/env";
import { logger } from "../logger";
import { metricsHandler } from "../observability";
import { BODY_LIMITS, errorBody, refuseTooLarge, rejectLargeBodies, tooLargeBody } from "./body-limit";
import { devCheckoutRouter } from "./dev-checkout";
import { devMailRouter } from "./dev-mail";
import { exportsRouter } from "./exports";
import { localOnly } from "./local-only";
import { webRouter } from "./web";
import { fanActivationRouter } from "./fan-activation";
import { invitationPageRouter } from "./invitation-page";
import { passwordResetPageRouter } from "./password-reset-page";
import { paymentWebhookRouter } from "./payment-webhook";
import { requestIdOf } from "./request-id";
import type { GraphQLHttpHandler } from "./serve-graphql";
import { openSocketCount } from "./ws";
import { activeSubscriptions, openedSubscriptions } from "../pubsub/order-events";
import type { Sql } from "../db/sql";

/** What /readyz reports besides the database. */
export interface Health {
  listenerConnected(): boolean;
  /** Set when this process runs the job worker (RUN_WORKER): whether its runner is running. */
  workerRunning?: () => boolean;
}

/** /readyz reports the database "down" when `select 1` takes longer than this. */
const READY_DB_TIMEOUT_MS = 2_000;

/**
 * The HTTP surface: /graphql, /webhooks/payments, /healthz, /readyz and, outside production, /dev/*.
 * `POST /graphql` does not come through here (server.ts hands it to `graphql` directly).
 */
export function createApp(graphql: GraphQLHttpHandler, orm: MikroORM, sql: Sql, config: Config, health: Health): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false); // no response here is cached by ETag; Express would hash every body
  app.set("trust proxy", config.trustProxy);
  app.use(
    rejectLargeBodies([
      ["/graphql", BODY_LIMITS.graphql],
      ["/webhooks/payments", BODY_LIMITS.paymentWebhook],
      ["/dev/checkout", BODY_LIMITS.devCheckout],
      ["/", BODY_LIMITS.other],
    ]),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/metrics", metricsHandler(sql, config)); // Prometheus; METRICS_TOKEN (see src/observability/endpoint.ts)
  app.get("/readyz", async (_req, res) => {
    let database = "up";
    let timer: NodeJS.Timeout | undefined;
    try {
      // A database that does not answer at all (a network partition) must not hang the probe.
      const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("no answer")), READY_DB_TIMEOUT_MS)));
      await Promise.race([orm.em.getConnection().execute("select 1"), deadline]);
    } catch {
      database = "down";
    } finally {
      clearTimeout(timer);
    }
    const listener = health.listenerConnected() ? "up" : "down";
    // Reported only by processes that run the job worker (RUN_WORKER); "down" while its runner is
    // dead and not yet replaced (src/jobs/worker.ts).
    const worker = health.workerRunning ? (health.workerRunning() ? "up" : "down") : undefined;
    const ok = database === "up" && listener === "up" && worker !== "down";
    res.status(ok ? 200 : 503).json({
      ok,
      database,
      listener,
      ...(worker ? { worker } : {}),
      sockets: openSocketCount(),
      subscriptions: activeSubscriptions(),
      subscriptionsOpened: openedSubscriptions(),
    });
  });

  app.use(paymentWebhookRouter(orm, config));
  app.use(fanActivationRouter(orm));
  app.use(invitationPageRouter());
  app.use(passwordResetPageRouter());
  app.use(exportsRouter(orm, sql, config)); // GET /brands/:brandId/orders.csv, tickets.csv
  if (config.devPaymentProvider) {
    app.use("/dev", localOnly(config)); // loopback clients only, unless DEV_ROUTES=open
    app.use(devCheckoutRouter(orm, config));
    app.use(devMailRouter(orm));
  }
  app.use(webRouter(config));
  // GET (GraphiQL's page aside: webRouter), other methods and spellings of the path: the same handler.
  app.use("/graphql", (req, res) => graphql(req, res, req.ip ?? req.socket.remoteAddress ?? "unknown"));

  app.use((req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use(bodyErrors);
  return app;
}

/** Body parsing (the payment webhook's and dev checkout's parsers) and other transport errors: a clear status and message, never a stack. */
const bodyErrors: ErrorRequestHandler = (err, req, res, _next) => {
  const requestId = requestIdOf(req, res);
  const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
  // A streamed body that grew past the parser's limit: the same early answer and bounded discard.
  if (status === 413 && !res.headersSent) return refuseTooLarge(req, res, tooLargeBody(req.path));
  if (status === 500) logger().error({ err, requestId }, "unhandled HTTP error");
  const message = status === 413 ? "request body too large" : status === 500 ? "internal error" : "bad request";
  const code = status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST";
  res.status(status).json(errorBody(req.path, message, code, status === 500 ? requestId : undefined));
};
