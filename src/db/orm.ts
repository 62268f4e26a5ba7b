import { DataloaderType, type Options } from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import { MikroORM, PostgreSqlDriver } from "@mikro-orm/postgresql";
import { join } from "node:path";
import { ALL_ENTITIES } from "../entities";
import { WorkerHeartbeat } from "../jobs/heartbeat";
import { logger } from "../logger";
import { MIGRATIONS } from "../migrations";

export type Orm = MikroORM;

/**
 * MikroORM options for one database URL. Migrations come from the explicit list in
 * src/migrations/index.ts (`migrationsList`), not from MikroORM scanning a folder: the same list
 * works from dist/ and from the TypeScript sources under vitest, and only listed migrations run.
 */
export function ormOptions(clientUrl: string, extra: Partial<Options<PostgreSqlDriver>> = {}): Options<PostgreSqlDriver> {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities: [...ALL_ENTITIES, WorkerHeartbeat], // the job worker's liveness table (src/jobs/heartbeat.ts)
    dataloader: DataloaderType.ALL,
    forceUtcTimezone: true,
    allowGlobalContext: false,
    pool: { min: 0, max: 20, idleTimeoutMillis: 30_000 },
    extensions: [Migrator],
    migrations: {
      tableName: "mikro_orm_migrations",
      path: join(__dirname, "..", "migrations"),
      pathTs: join(__dirname, "..", "..", "src", "migrations"),
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: "ts",
    },
    // graphile-worker owns its schema (its own migrations): the migration diff must never touch it.
    schemaGenerator: { ignoreSchema: ["graphile_worker"] },
    logger: (message) => logger().debug({ component: "orm" }, message),
    // Every SQL statement (with its parameters) at LOG_LEVEL=debug or trace.
    debug: logger().isLevelEnabled("debug") ? ["query", "query-params"] : false,
    colors: false,
    ...extra,
  };
}

/**
 * Applies pending migrations (on their own connections, without a statement timeout: building an
 * index on a big table may take minutes), then connects with `statement_timeout` set on every
 * connection of the pool (0: none).
 */
export async function initOrm(clientUrl: string, { migrate = true, statementTimeoutMs = 0 } = {}): Promise<Orm> {
  if (migrate) {
    const migrating = await MikroORM.init(ormOptions(clientUrl, { pool: { min: 0, max: 1 } }));
    try {
      const applied = await migrating.getMigrator().up();
      if (applied.length) logger().info({ migrations: applied.map((m) => m.name) }, "applied migrations");
    } finally {
      await migrating.close();
    }
  }
  return MikroORM.init(ormOptions(clientUrl, statementTimeoutMs ? { driverOptions: { connection: { statement_timeout: statementTimeoutMs } } } : {}));
}
