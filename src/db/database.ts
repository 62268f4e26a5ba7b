import type { MikroORM } from "@mikro-orm/postgresql";
import { join } from "node:path";
import type { Config } from "../config/env";
import { startEmbeddedPostgres } from "./embedded";
import { initOrm } from "./orm";

export interface Database {
  orm: MikroORM;
  /** "embedded" (PostgreSQL under DATA_DIR/pg) or "external" (DATABASE_URL). */
  kind: "embedded" | "external";
  /** Closes the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

/** DATABASE_URL, or the embedded PostgreSQL under DATA_DIR/pg; pending migrations applied. */
export async function openDatabase(config: Config, { migrate = true } = {}): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(join(config.dataDir, "pg"));
  try {
    const orm = await initOrm(config.databaseUrl ?? embedded!.url, { migrate });
    return {
      orm,
      kind: embedded ? "embedded" : "external",
      async close() {
        await orm.close();
        await embedded?.stop();
      },
    };
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}
