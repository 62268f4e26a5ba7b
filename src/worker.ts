import "reflect-metadata";
import { loadConfigOrExit } from "./config/env";
import { openDatabase } from "./db/database";
import { startWorker } from "./jobs/worker";
import { EmbeddedPostgresError } from "./db/embedded-root";
import { initLogger, logger } from "./logger";

/** `npm run worker`: the job worker alone (emails), to scale it apart from the API (RUN_WORKER=false there). */
async function main() {
  const config = loadConfigOrExit();
  const log = initLogger(config.logLevel);
  const db = await openDatabase(config);
  const worker = await startWorker(db.orm, config, db.url);
  log.info({ database: db.kind }, "Orderline worker ready");
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    setTimeout(() => process.exit(1), 15_000).unref();
    await worker.stop();
    await db.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  // An embedded PostgreSQL that cannot start says why in one plain line (the directory and the fix).
  if (err instanceof EmbeddedPostgresError) logger().fatal(err.message);
  else logger().fatal({ err }, "worker failed to start");
  process.exit(1);
});
