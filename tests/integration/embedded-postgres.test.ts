import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/db/embedded";
import { nativeDir } from "../../src/db/embedded-root";
import { ROOT, startApi, TEST_AUTH_SECRET, TEST_WEBHOOK_SECRET } from "../helpers/processes";

// Started as root, PostgreSQL runs as the postgres user. From a directory only root may enter (like
// `mktemp -d` or /root/app) that user reached neither the binaries nor the data directory, and the
// start crashed with an unhandled `spawn …/initdb EACCES`. As another user, the private directory
// is simply ours.

const asRoot = process.getuid?.() === 0;
const postgresUid = () => Number(String(execFileSync("id", ["-u", "postgres"])));

/** Runs `fn` with a fresh directory as os.tmpdir() (TMPDIR), mode `mode`, removed afterwards. */
async function withTmpdir<T>(mode: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "orderline-tmpdir-"));
  chmodSync(dir, mode);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await fn(dir);
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the embedded PostgreSQL in a directory only its owner may enter (mode 0700)", () => {
  it(`starts, keeps its data across a restart${asRoot ? " (binaries copied and data placed under TMPDIR for the postgres user)" : ""}`, async () => {
    const priv = mkdtempSync(join(tmpdir(), "orderline-private-")); // 0700
    expect(statSync(priv).mode & 0o777).toBe(0o700);
    // The binaries as a clone in a private directory has them: behind the private directory.
    symlinkSync(realpathSync(nativeDir()), join(priv, "native"));
    const options = { binaries: join(priv, "native"), durable: false };
    try {
      await withTmpdir(0o755, async (tmp) => {
        const first = await startEmbeddedPostgres(join(priv, "app", ".data", "pg"), options);
        try {
          expect(await query(first.url, "select 1 as one")).toEqual([{ one: 1 }]);
          await query(first.url, "create table kept (x int); insert into kept values (42)");
        } finally {
          await first.stop();
        }
        if (asRoot) {
          const [bin] = readdirSync(tmp).filter((n) => n.startsWith("orderline-pg-bin-"));
          const [data] = readdirSync(tmp).filter((n) => n.startsWith("orderline-pg-data-"));
          const binStat = statSync(join(tmp, bin));
          expect([binStat.uid, binStat.mode & 0o777]).toEqual([0, 0o755]); // root's, read-only for others
          const dataStat = statSync(join(tmp, data));
          expect([dataStat.uid, dataStat.mode & 0o777]).toEqual([postgresUid(), 0o700]); // the postgres user's alone
        }
        const again = await startEmbeddedPostgres(join(priv, "app", ".data", "pg"), options);
        try {
          expect(await query(again.url, "select x from kept")).toEqual([{ x: 42 }]);
        } finally {
          await again.stop();
        }
        // The restart reused the copy and the data: nothing new under TMPDIR.
        if (asRoot) expect(readdirSync(tmp).filter((n) => n.startsWith("orderline-pg-")).length).toBe(2);
      });
    } finally {
      rmSync(priv, { recursive: true, force: true });
    }
  }, 120_000);

  it("serves `npm start` (dist/main.js) run from a private directory", async () => {
    const priv = mkdtempSync(join(tmpdir(), "orderline-private-"));
    try {
      await withTmpdir(0o755, async (tmp) => {
        const api = await startApi({ TMPDIR: tmp, DEV_PAYMENT_PROVIDER: "false" }, { cwd: priv }); // DATA_DIR: ./.data
        try {
          const res = await fetch(`${api.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"query":"{ __typename }"}',
          });
          expect(await res.json()).toEqual({ data: { __typename: "Query" } });
          // As root, the log says where the data went instead (the postgres user's directory under TMPDIR).
          expect(api.logs.some((l) => l.includes(`keeps its data in ${tmp}/orderline-pg-data-`))).toBe(asRoot);
        } finally {
          await api.stop();
        }
      });
    } finally {
      rmSync(priv, { recursive: true, force: true });
    }
  }, 120_000);

  it("stops with one plain log line naming the directory and the fix when it cannot work", async () => {
    const priv = mkdtempSync(join(tmpdir(), "orderline-private-"));
    try {
      // As root: the data directory and the temp directory are both closed to the postgres user.
      // As another user: a data directory that cannot be created.
      const dataDir = asRoot ? join(priv, "data") : "/proc/orderline-cannot-exist/data";
      const env = {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        PORT: "0",
        AUTH_SECRET: TEST_AUTH_SECRET,
        PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        DATA_DIR: dataDir,
        TMPDIR: priv,
      };
      const child = spawn(process.execPath, [join(ROOT, "dist", "main.js")], { cwd: priv, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const code = await new Promise<number | null>((done) => child.once("close", done));
      expect(code).toBe(1);
      const lines = output.trim().split("\n");
      expect(lines, output).toHaveLength(1);
      const line = JSON.parse(lines[0]);
      expect(line.level).toBe(60);
      expect(line.err).toBeUndefined(); // no stack
      expect(line.msg).toContain(asRoot ? priv : dataDir);
      // DATA_DIR for the data; TMPDIR when the binaries too are behind a private directory (a clone
      // installed there), which is checked first.
      expect(line.msg).toMatch(/DATA_DIR|TMPDIR/);
      expect(line.msg).toMatch(/DATABASE_URL/);
    } finally {
      rmSync(priv, { recursive: true, force: true });
    }
  }, 60_000);
});
