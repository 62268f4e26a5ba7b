import "reflect-metadata";
import { join } from "node:path";
import { ConfigError, loadConfig } from "./config/env";
import { startEmbeddedPostgres } from "./db/embedded";
import { initOrm } from "./db/orm";
import { initLogger, logger } from "./logger";
import { startServer } from "./server";
import { startExpirySweeper } from "./services/order/expiry";

const SHUTDOWN_GRACE_MS = 10_000; // 10 seconds before a forced exit

/** Start: config → database (embedded unless DATABASE_URL) → migrations → HTTP → background work. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = initLogger(config.logLevel);
  const started = performance.now();

  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, "pg"));
  const orm = await initOrm(config.databaseUrl ?? embedded!.url);
  const server = await startServer(config, orm);
  const sweeper = startExpirySweeper(orm);

  const url = `http://localhost:${server.port}/graphql`;
  log.info(
    { url, port: server.port, database: embedded ? "embedded" : "external", startupMs: Math.round(performance.now() - started) },
    `Orderline API ready at ${url}`,
  );

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
      await orm.close();
      await embedded?.stop();
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
  logger().fatal({ err }, "failed to start");
  process.exit(1);
});
