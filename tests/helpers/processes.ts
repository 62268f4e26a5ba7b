import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";

export const ROOT = resolve(__dirname, "..", "..");
export const TEST_AUTH_SECRET = "test-auth-secret-0123456789abcdefghijklmnop";
export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdefghijklm";

const children = new Set<ChildProcess>();
// Whatever happens to the test process, started servers do not outlive it.
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

export interface ApiProcess {
  url: string;
  port: number;
  pid: number;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the built API (`dist/main.js`) as its own process on a free port and waits for its
 * "ready" line. `stop()` sends SIGTERM and, after 10 s, SIGKILL (by PID).
 */
export async function startApi(env: Record<string, string>, { cwd = tmpdir() }: { cwd?: string } = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, [join(ROOT, "dist", "main.js")], {
    // Not the repository: a developer's ./.env (say, a real Postmark token) must not reach test servers.
    cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      PORT: "0",
      LOG_LEVEL: "info",
      AUTH_SECRET: TEST_AUTH_SECRET,
      PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const logs: string[] = [];
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start in 30 s:\n${logs.join("\n")}`)), 30_000);
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (logs.length > 5000) logs.shift();
        const m = /"msg":"Orderline API ready at http:\/\/localhost:(\d+)\/graphql"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code} before it was ready:\n${logs.join("\n")}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    logs,
    stop: () => stopChild(child),
  };
}

/**
 * Another API process on the database, as a second instance behind a load balancer (no job worker),
 * once its LISTEN connection is up: "ready" is logged before it, and it carries the notifications.
 */
export async function startSecondApi(databaseUrl: string): Promise<ApiProcess> {
  const api = await startApi({ DATABASE_URL: databaseUrl, RUN_WORKER: "false" });
  for (const until = Date.now() + 15_000; ;) {
    const body = (await (await fetch(`${api.url}/readyz`)).json()) as { listener?: string };
    if (body.listener === "up") return api;
    if (Date.now() > until) {
      await api.stop();
      throw new Error(`the second API's LISTEN connection did not come up in 15 s:\n${api.logs.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    // "close", not "exit": it comes after the child's stdout and stderr are fully read.
    child.once("close", () => {
      clearTimeout(kill);
      children.delete(child);
      done();
    });
    child.kill("SIGTERM");
  });
}

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A fresh database for one test run: a new database in DATABASE_URL's server when it is set,
 * otherwise an embedded PostgreSQL in a temporary directory (no fsync: test data is throw-away).
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `orderline_test_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async stop() {
        const c = new pg.Client({ connectionString: external });
        await c.connect();
        await c.query(`drop database if exists "${name}" with (force)`);
        await c.end();
      },
    };
  }
  const { startEmbeddedPostgres } = await import("../../src/db/embedded.js");
  const dir = mkdtempSync(join(tmpdir(), "orderline-test-"));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  const db = await startEmbeddedPostgres(join(dir, "pg"), { durable: false });
  return {
    url: db.url,
    async stop() {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A second, throw-away database on the same server as the run's database, for tests that need
 * their own API process (and may break its database on purpose).
 */
export async function siblingDatabase(baseUrl: string, label: string): Promise<TestDatabase> {
  const name = `orderline_${label}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async stop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}
