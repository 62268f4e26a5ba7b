import "reflect-metadata";
import { loadConfigOrExit } from "./config/env";
import { openDatabase } from "./db/database";
import { EmbeddedPostgresError } from "./db/embedded-root";
import { initLogger, logger } from "./logger";
import { startServer } from "./server";
import { startSweeper } from "./jobs/sweeper";
import { orderExpirySweep } from "./services/order/expiry";
import { rateLimitPruning } from "./rate-limit/pruning";
import { idempotencyPruning } from "./services/idempotency";
import { passwordResetPruning } from "./services/auth/password-reset";
import { startWorker, type JobWorker } from "./jobs/worker";
import { startListener } from "./pubsub/listener";
import { setAvailabilityReader } from "./pubsub/availability";
import { dummyPasswordHash } from "./services/auth/password";

const SHUTDOWN_GRACE_MS = 10_000; // 10 seconds before a forced exit

/** Start: config → database (embedded unless DATABASE_URL) → migrations → LISTEN → HTTP + WebSocket → expiry sweeper and job worker. */
async function main() {
  const config = loadConfigOrExit();
  const log = initLogger(config.logLevel);
  const started = performance.now();

  const db = await openDatabase(config);
  const orm = db.orm;
  setAvailabilityReader(db.readPool); // the coalesced reads of availabilityChanged
  const listener = startListener(db.url);
  // Assigned once, after the server starts; /readyz reads it meanwhile, so it cannot be a const.
  // eslint-disable-next-line prefer-const
  let worker: JobWorker | undefined;
  const server = await startServer(config, orm, db.readPool, {
    listenerConnected: () => listener.connected,
    // Only with RUN_WORKER: /readyz then also needs a running job worker.
    workerRunning: config.runWorker ? () => worker?.running ?? false : undefined,
  });
  // With PORT=0 and no PUBLIC_URL, links (e.g. checkoutUrl) must name the port actually bound.
  if (!process.env.PUBLIC_URL && config.port === 0) config.publicUrl = `http://localhost:${server.port}`;
  const sweeper = startSweeper(orm, [orderExpirySweep, rateLimitPruning, idempotencyPruning, passwordResetPruning]);
  worker = config.runWorker ? await startWorker(orm, config, db.url) : undefined;

  const url = `http://localhost:${server.port}/graphql`;
  log.info({ url, port: server.port, database: db.kind, startupMs: Math.round(performance.now() - started) }, `Orderline API ready at ${url}`);

  if (config.devPaymentProvider) {
    log.warn(
      { nodeEnv: config.nodeEnv, devRoutes: config.devRoutes },
      config.devRoutes === "open"
        ? "The development payment provider is ON and DEV_ROUTES=open: anyone who can reach this server and knows a payment attempt's id can mark it paid at /dev/checkout, and read every email at /dev/mail. Set NODE_ENV=production (or DEV_PAYMENT_PROVIDER=false) for real deployments."
        : "The development payment provider is ON: /dev/checkout (mark a payment attempt paid) and /dev/mail answer clients on this machine only (loopback). Set NODE_ENV=production (or DEV_PAYMENT_PROVIDER=false) for real deployments.",
    );
  }
  void dummyPasswordHash(); // computed now, so the first logIn with an unknown email is not slower

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await server.close();
      await sweeper.stop();
      await worker?.stop();
      await listener.stop();
      await db.close();
      log.info("stopped");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "error during shutdown");
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  // An embedded PostgreSQL that cannot start says why in one plain line (the directory and the fix).
  if (err instanceof EmbeddedPostgresError) logger().fatal(err.message);
  else logger().fatal({ err }, "failed to start");
  process.exit(1);
});
