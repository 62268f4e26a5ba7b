import type { ApolloServer } from "@apollo/server";
import type { MikroORM } from "@mikro-orm/postgresql";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { Config } from "../config/env";
import { logger } from "../logger";
import type { GraphQLContext } from "../resolvers/context";
import { devCheckoutRouter } from "./dev-checkout";
import { devMailRouter } from "./dev-mail";
import { webRouter } from "./web";
import { fanActivationRouter } from "./fan-activation";
import { graphqlMiddleware } from "./graphql";
import { paymentWebhookRouter } from "./payment-webhook";
import { requestIdOf } from "./request-id";
import { openSocketCount } from "./ws";
import { activeSubscriptions } from "../pubsub/order-events";
import type { Health } from "../server";
import type { Sql } from "../services/context";

/** The HTTP surface: /graphql, /webhooks/payments, /healthz, /readyz and, outside production, /dev/*. */
export function createApp(apollo: ApolloServer<GraphQLContext>, orm: MikroORM, sql: Sql, config: Config, health: Health): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/readyz", async (_req, res) => {
    let database = "up";
    try {
      await orm.em.getConnection().execute("select 1");
    } catch {
      database = "down";
    }
    const listener = health.listenerConnected() ? "up" : "down";
    const ok = database === "up" && listener === "up";
    res.status(ok ? 200 : 503).json({ ok, database, listener, sockets: openSocketCount(), subscriptions: activeSubscriptions() });
  });

  app.use(paymentWebhookRouter(orm, config));
  app.use(fanActivationRouter(orm));
  if (config.devPaymentProvider) {
    app.use(devCheckoutRouter(orm, config));
    app.use(devMailRouter(orm));
  }
  app.use(webRouter(config));
  app.use("/graphql", ...graphqlMiddleware(apollo, orm, sql, config));

  app.use((req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use(bodyErrors);
  return app;
}

/** Body parsing and other transport errors: a clear status and message, never a stack. */
const bodyErrors: ErrorRequestHandler = (err, req, res, _next) => {
  const requestId = requestIdOf(req, res);
  const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 500) logger().error({ err, requestId }, "unhandled HTTP error");
  const message =
    status === 413 ? "request body too large" : err?.type === "entity.parse.failed" ? "request body is not valid JSON" : status === 500 ? "internal error" : "bad request";
  if (req.path.startsWith("/graphql")) {
    const code = status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST";
    res.status(status).json({ errors: [{ message, extensions: { code, ...(status === 500 ? { requestId } : {}) } }] });
  } else {
    res.status(status).json({ error: message, ...(status === 500 ? { requestId } : {}) });
  }
};
