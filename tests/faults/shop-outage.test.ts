/**
 * Fault: a brand's shop (the receiver of the signed coupon.issued webhook) is down for an hour.
 *
 * What must hold: deliveries keep being retried on the production schedule (JOB_RETRY_BASE_MS =
 * 30 s, doubling, ±20 % jitter; see src/webhooks/coupon-delivery.ts), every try is recorded in
 * DeliveryAttempt, and the delivery goes through once the shop is back.
 *
 * Simulated time: the API runs with the production backoff, and the test plays the clock. After
 * each failed try the worker schedules the next one (a graphile-worker job with run_at in the
 * future). Instead of sleeping until then, the test moves everything recorded so far into the past
 * by that wait (the delivery's and its tries' created_at) and makes the job due now
 * (graphile_worker.reschedule_jobs, plus a NOTIFY so the worker does not wait for its 2 s poll).
 * The worker's own code runs unchanged; only waiting is skipped. The sum of the skipped waits is
 * the simulated time: the shop stays down (connection refused) for every try scheduled less than
 * an hour after the first, and comes back for the first one scheduled later. The coupon delivery's
 * 25-hour give-up rule reads created_at, so it sees the simulated age too.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CreateFanDiscountDocument, FansDocument, RegisterFanDocument, UpdateBrandDocument } from "../graphql/generated";
import { ok, uniqueEmail } from "../helpers/api";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";
import { brandOn, sqlPool, startToggleShop, until, type ToggleShop } from "./support";

const HOUR_MS = 60 * 60_000;
const BASE_MS = 30_000; // the production default of JOB_RETRY_BASE_MS
/** The nominal wait after the n-th failed try (before jitter). */
const nominalWaitMs = (n: number) => Math.min(HOUR_MS, BASE_MS * 2 ** (n - 1));

let db: TestDatabase;
let api: ApiProcess;
let shop: ToggleShop;
let sql: ReturnType<typeof sqlPool>;

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "faults_shop");
  shop = await startToggleShop();
  api = await startApi({ DATABASE_URL: db.url, RUN_WORKER: "true" }); // JOB_RETRY_BASE_MS: default (30 s)
  sql = sqlPool(db.url);
});

afterAll(async () => {
  await api?.stop();
  await sql?.end();
  await shop?.close();
  await db?.stop();
});

describe("the shop's webhook endpoint down for an hour (simulated)", () => {
  it("is retried on the backoff schedule, every try recorded, and the coupon is delivered once it is back", async () => {
    await shop.down();
    const brand = await brandOn(api.url);
    const auth = { api: api.url, token: brand.owner.token };
    await ok(UpdateBrandDocument, { id: brand.brandId, input: { couponWebhookUrl: shop.url } }, auth);
    const { createDiscount } = await ok(
      CreateFanDiscountDocument,
      { input: { brandId: brand.brandId, name: "Fans", description: "For fans", type: "PERCENT", amount: 10, usageLimit: 1 } },
      auth,
    );
    const email = uniqueEmail("fan");
    await ok(RegisterFanDocument, { input: { discountId: createDiscount.id, name: "A Fan", email } }, { api: api.url });
    const deliveryId = await until(async () => {
      const { rows } = await sql.query("select d.id from webhook_delivery d join fan f on f.id = d.fan_id where f.email = $1", [email]);
      expect(rows).toHaveLength(1);
      return rows[0].id as string;
    });

    const waits: number[] = []; // the wait the worker scheduled after each failed try, in ms
    let simulatedMs = 0;
    for (let tries = 1; ; tries++) {
      if (tries > 20) throw new Error("more tries than an hour of backoff allows");
      // Try number `tries` ran: it failed and scheduled the next one, or it delivered.
      const state = await until(
        async () => {
          const { rows } = await sql.query(
            `select d.attempts, d.status, j.id as job_id, extract(epoch from j.run_at - now()) * 1000 as wait_ms
             from webhook_delivery d
             left join graphile_worker.jobs j on j.key = 'delivery:' || d.id and j.locked_at is null
            where d.id = $1`,
            [deliveryId],
          );
          expect(rows[0].attempts).toBe(tries);
          expect(rows[0].status === "DELIVERED" || rows[0].job_id !== null).toBe(true);
          return rows[0] as { attempts: number; status: string; job_id: string | null; wait_ms: string };
        },
        10_000,
        20,
      );
      if (state.status === "DELIVERED") break;
      expect(state.status).toBe("PENDING");
      const wait = Number(state.wait_ms);
      waits.push(wait);
      simulatedMs += wait;
      if (simulatedMs >= HOUR_MS) await shop.up(); // the next try comes an hour or more after the first
      // Let the time pass: what was recorded moves `wait` into the past, and the job is due now.
      await sql.query("update webhook_delivery set created_at = created_at - make_interval(secs => $2) where id = $1", [deliveryId, wait / 1000]);
      await sql.query("update delivery_attempt set created_at = created_at - make_interval(secs => $2) where delivery_id = $1", [deliveryId, wait / 1000]);
      await sql.query("select graphile_worker.reschedule_jobs(array[$1::bigint], run_at => now())", [state.job_id]);
      await sql.query(`select pg_notify('jobs:insert', '{"count":1}')`);
    }

    // The schedule: 30 s, 1 min, 2 min, … each ±20 %; with an hour down that is 7 or 8 failed tries
    // (30 s · (2^7 − 1) = 63.5 min nominal: 7 at +20 %, 8 at −20 %).
    const failedTries = waits.length;
    expect(failedTries).toBeGreaterThanOrEqual(7);
    expect(failedTries).toBeLessThanOrEqual(8);
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(0.8 * nominalWaitMs(i + 1) - 1_000);
      expect(w).toBeLessThanOrEqual(1.2 * nominalWaitMs(i + 1) + 1_000);
    });
    expect(simulatedMs).toBeGreaterThanOrEqual(HOUR_MS);
    expect(simulatedMs - waits[waits.length - 1]).toBeLessThan(HOUR_MS); // the try before was still within the hour

    // Every try recorded, oldest first: refused connections while down, then the 200.
    const { rows: tries } = await sql.query<{ status_code: number | null; error: string | null; at: Date }>(
      "select status_code, error, created_at as at from delivery_attempt where delivery_id = $1 order by created_at",
      [deliveryId],
    );
    expect(tries).toHaveLength(failedTries + 1);
    for (const t of tries.slice(0, -1)) {
      expect(t.status_code).toBeNull();
      expect(t.error).toBe("could not connect"); // the generic reason; ECONNREFUSED and the port only in the log
    }
    expect(tries[tries.length - 1]).toMatchObject({ status_code: 200, error: null });
    // Their recorded times span the simulated hour (plus the few real seconds the test took).
    const spanMs = tries[tries.length - 1].at.getTime() - tries[0].at.getTime();
    expect(spanMs).toBeGreaterThanOrEqual(HOUR_MS);
    expect(Math.abs(spanMs - simulatedMs)).toBeLessThan(15_000);

    // The shop got exactly one request: the one that went through.
    const calls = shop.requests.filter((r) => r.delivery === deliveryId);
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toMatchObject({ type: "coupon.issued", data: { email } });

    // As the brand sees it.
    const { fans } = await ok(FansDocument, { brandId: brand.brandId, first: 10 }, auth);
    const delivery = fans.edges[0].node.couponDeliveries[0];
    expect(delivery).toMatchObject({ status: "DELIVERED", attempts: failedTries + 1, lastError: null });
    expect(delivery.tries).toHaveLength(failedTries + 1);
    console.info(
      `[faults] shop down for ${(simulatedMs / 60_000).toFixed(1)} simulated minutes: ${failedTries} failed tries (waits ${waits.map((w) => Math.round(w / 1000)).join(", ")} s), delivered on try ${failedTries + 1}`,
    );
  });
});
