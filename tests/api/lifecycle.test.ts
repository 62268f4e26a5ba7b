import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, startApi, type ApiProcess } from "../helpers/processes";

/** These start their own API with its own embedded PostgreSQL (no DATABASE_URL), as `npm start` does. */
const dataDir = mkdtempSync(join(tmpdir(), "orderline-lifecycle-"));
chmodSync(dataDir, 0o755);
let api: ApiProcess | undefined;
afterAll(async () => {
  await api?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(base: string, query: string, token?: string): Promise<any> {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

const postmasterPid = () => Number(readFileSync(join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("starting and stopping", () => {
  it("starts on an empty DATA_DIR with embedded PostgreSQL, stops cleanly on SIGTERM and keeps the data for the next start", async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: "", AUTH_SECRET: "", PAYMENT_WEBHOOK_SECRET: "", NODE_ENV: "development" };
    api = await startApi(env);
    expect(api.logs.some((l) => l.includes('"database":"embedded"'))).toBe(true);
    const signUp = await post(api.url, 'mutation { signUp(input: {email: "keep@example.test", password: "long enough password"}) { token } }');
    const token = signUp.data.signUp.token as string;
    expect(existsSync(join(dataDir, "auth_secret.txt"))).toBe(true); // generated once, kept for the next start

    const pg = postmasterPid();
    expect(alive(pg)).toBe(true);
    await api.stop();
    expect(api.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    expect(alive(pg)).toBe(false);
    expect(existsSync(join(dataDir, "pg", "postmaster.pid"))).toBe(false);

    api = await startApi(env);
    const me = await post(api.url, "{ me { user { email } } }", token);
    expect(me.data.me.user.email).toBe("keep@example.test");
    await api.stop();
  }, 60_000);

  it("refuses a bad configuration, naming every bad variable, before touching anything", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "dist", "main.js")], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: "99999", ORDER_TTL_MINUTES: "soon", LOG_LEVEL: "chatty" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    for (const name of ["PORT", "ORDER_TTL_MINUTES", "LOG_LEVEL"]) expect(run.stderr).toContain(name);
  });
});
