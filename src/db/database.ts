import type { MikroORM } from "@mikro-orm/postgresql";
import pg from "pg";
import { join } from "node:path";
import type { Config } from "../config/env";
import { migrateJobQueue } from "../jobs/queue";
import { startEmbeddedPostgres } from "./embedded";
import { initOrm } from "./orm";
import { backfillTickets, setTicketSecret } from "../services/checkin/issue";
import { readPoolTypes } from "./timestamps";

export interface Database {
  orm: MikroORM;
  /** The connection URL (for graphile-worker and LISTEN connections). */
  url: string;
  /** A plain pg pool for the read model's hand-written SQL (no ORM on the hot read path). */
  readPool: pg.Pool;
  /** "embedded" (PostgreSQL under DATA_DIR/pg) or "external" (DATABASE_URL). */
  kind: "embedded" | "external";
  /** Closes the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

export const READ_POOL_SIZE = 10;

/** DATABASE_URL, or the embedded PostgreSQL under DATA_DIR/pg; pending migrations (ours and the job queue's) applied. */
export async function openDatabase(config: Config, { migrate = true } = {}): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, "pg"));
  try {
    const url = config.databaseUrl ?? embedded!.url;
    const orm = await initOrm(url, { migrate, statementTimeoutMs: config.statementTimeoutMs });
    if (migrate) await migrateJobQueue(url);
    setTicketSecret(config.authSecret); // ticket codes are HMACs under it, written when an order is paid
    if (migrate) await backfillTickets(orm.em.fork());
    const readPool = new pg.Pool({
      connectionString: url,
      max: READ_POOL_SIZE,
      application_name: "orderline-read",
      types: readPoolTypes(),
      ...(config.statementTimeoutMs ? { statement_timeout: config.statementTimeoutMs } : {}),
    });
    readPool.on("error", () => undefined); // an idle client's error: the pool replaces it
    return {
      orm,
      url,
      readPool,
      kind: embedded ? "embedded" : "external",
      async close() {
        await readPool.end();
        await orm.close();
        await embedded?.stop();
      },
    };
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}
