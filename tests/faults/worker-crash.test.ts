/**
 * Fault: the job worker is killed (kill -9) in the middle of sending emails.
 *
 * What must hold: after a worker is started again, every email is delivered, without waiting for
 * graphile-worker's own 4-hour lock expiry, and the duplicates are bounded.
 *
 * The bound on duplicates: an email is marked SENT in the same transaction that holds its row lock
 * while Postmark is called (src/email/send-email.ts), and that transaction commits only after
 * Postmark's answer. A kill -9 rolls back every open transaction, so an email whose request had
 * already reached Postmark stays QUEUED and is sent again by the next worker. Postmark has no
 * idempotency key for sending, so this cannot be avoided (at-least-once delivery); what can be
 * said is that only the emails in flight at the moment of the kill are sent twice: at most
 * WORKER_CONCURRENCY (4) per killed worker process, each at most once more. No email that was
 * committed SENT is sent again (the next run skips anything no longer QUEUED), and no email in
 * flight is sent by two live workers at once (the row lock, FOR UPDATE SKIP LOCKED).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { StartAnonymousSessionDocument } from "../graphql/generated";
import { ok, uniqueEmail } from "../helpers/api";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";
import { WORKER_CONCURRENCY } from "../../src/jobs/worker";
import { brandOn, orderFor, pay, sqlPool, startSlowPostmark, startWorkerProcess, until, type NodeProcess, type SlowPostmark } from "./support";

const HEARTBEAT_TIMEOUT_MS = 2_000; // 30 s in production; short here so the test is quick
const POSTMARK_DELAY_MS = 1_000;
const EMAILS = 10;

let db: TestDatabase;
let postmark: SlowPostmark;
let api: ApiProcess;
const workers: NodeProcess[] = [];
let sql: ReturnType<typeof sqlPool>;
let workerEnv: Record<string, string>;

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "faults_worker");
  postmark = await startSlowPostmark(POSTMARK_DELAY_MS);
  workerEnv = {
    DATABASE_URL: db.url,
    POSTMARK_SERVER_TOKEN: postmark.token,
    POSTMARK_API_URL: postmark.url,
    JOB_RETRY_BASE_MS: "200",
    WORKER_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
  };
  // The API only takes the orders and payments here: the emails are sent by separate worker processes.
  api = await startApi({ ...workerEnv, RUN_WORKER: "false" });
  sql = sqlPool(db.url);
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await api?.stop();
  await sql?.end();
  await postmark?.close();
  await db?.stop();
});

describe("kill -9 of the worker while it sends", () => {
  it("delivers every email after a worker restarts: the dead worker's jobs are released by heartbeat, only the emails in flight are sent twice", async () => {
    const shop = await brandOn(api.url);
    const { startAnonymousSession } = await ok(StartAnonymousSessionDocument, {}, { api: api.url });
    const token = startAnonymousSession.token;
    const buyers = Array.from({ length: EMAILS }, (_, i) => uniqueEmail(`kill${i}`));
    const orders: { id: string; total: number; currency: string }[] = [];
    for (const buyer of buyers) orders.push(await orderFor(shop, buyer, token));
    for (const order of orders) await pay(shop, order, token);
    expect((await sql.query("select 1 from graphile_worker.jobs")).rowCount).toBe(EMAILS); // queued, no worker yet

    // The first worker takes 4 emails at once; kill it while Postmark is still answering them
    // (answers are held until the kill, however long the worker takes to send all four).
    postmark.hold();
    const w1 = await startWorkerProcess(workerEnv);
    workers.push(w1);
    await until(() => expect(postmark.inFlight()).toBe(WORKER_CONCURRENCY), 10_000, 10);
    const inFlightAtKill = postmark.inFlight();
    expect(postmark.requests.filter((r) => r.answeredAt !== undefined)).toHaveLength(0); // none answered yet: none committed
    await w1.kill9();
    postmark.release();

    // Its jobs stay locked by its pool (graphile-worker alone would keep them locked for 4 hours),
    // and its heartbeat row names that pool.
    const locked = await sql.query<{ locked_by: string; n: number }>(
      "select locked_by, count(*)::int as n from graphile_worker.jobs where locked_by is not null group by locked_by",
    );
    expect(locked.rows).toHaveLength(1);
    expect(locked.rows[0].n).toBe(inFlightAtKill);
    const deadPool = locked.rows[0].locked_by;
    expect((await sql.query("select 1 from worker_heartbeat where pool_id = $1", [deadPool])).rowCount).toBe(1);

    const restarted = Date.now();
    const w2 = await startWorkerProcess(workerEnv);
    workers.push(w2);
    // Every email SENT...
    await until(async () => {
      const { rows } = await sql.query<{ status: string; n: number }>("select status, count(*)::int as n from email where order_id = any($1) group by status", [
        orders.map((o) => o.id),
      ]);
      expect(rows).toEqual([{ status: "SENT", n: EMAILS }]);
    }, 20_000);
    const recoveryMs = Date.now() - restarted;

    // ...and accepted by Postmark at least once each; twice exactly for those in flight at the kill.
    const accepted = buyers.map((b) => postmark.acceptedFor(b));
    expect(accepted.every((n) => n >= 1)).toBe(true);
    const duplicates = accepted.reduce((s, n) => s + n, 0) - EMAILS;
    expect(duplicates).toBe(inFlightAtKill);
    expect(duplicates).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    expect(accepted.filter((n) => n > 2)).toEqual([]);

    // The new worker released the dead one's jobs (not graphile-worker's 4-hour reset).
    const released = w2.logs.filter((l) => l.includes("released the jobs of a worker presumed dead"));
    expect(released).toHaveLength(1);
    expect(JSON.parse(released[0])).toMatchObject({ deadPool, jobs: inFlightAtKill });
    expect((await sql.query("select 1 from graphile_worker.jobs where locked_by = $1", [deadPool])).rowCount).toBe(0);
    expect((await sql.query("select 1 from worker_heartbeat where pool_id = $1", [deadPool])).rowCount).toBe(0);
    // Released about one heartbeat timeout after the new worker started (it first beats for one full timeout).
    expect(recoveryMs).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 10_000);
    console.info(`[faults] kill -9: ${inFlightAtKill} emails in flight, ${duplicates} duplicates of ${EMAILS}; all SENT ${recoveryMs} ms after the restart`);

    // The attempt that died with the worker was rolled back: each email counts the send that committed.
    const { rows } = await sql.query<{ attempts: number }>("select attempts from email where order_id = any($1)", [orders.map((o) => o.id)]);
    expect(rows.map((r) => r.attempts)).toEqual(Array(EMAILS).fill(1));

    await w2.stop();
    expect((await sql.query("select 1 from worker_heartbeat")).rowCount).toBe(0); // a clean stop removes its row
  });
});
