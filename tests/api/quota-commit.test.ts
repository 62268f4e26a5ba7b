import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CreateDiscountDocument } from "../graphql/generated";
import { db, ok } from "../helpers/api";
import { brandWithProducts } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startApi, type ApiProcess } from "../helpers/processes";
import { buy, createQuota, expectSoldOut, quotaState, writtenFor } from "../helpers/quotas";

/*
 * The quota counters move at COMMIT (a deferred trigger, Migration20261205160000): two buyers of
 * the last seat can both pass createOrder's early read of the room, and the one whose commit comes
 * second must get SOLD_OUT with nothing written. The race is made certain, not hoped for: the test
 * holds the quota row (FOR NO KEY UPDATE, which the holds' foreign key check does not wait for)
 * until both orders wait at their COMMIT. On an API process of its own, to read its log and to
 * see that the connection whose commit failed goes back to its pool in a usable state.
 */

let api: ApiProcess;

beforeAll(async () => {
  api = await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false", TRUST_PROXY: "loopback" });
}, 60_000);

afterAll(async () => {
  await api?.stop(); // by PID
});

/** Sessions waiting, directly or through another waiter, for the lock of backend `pid`: their current statements. */
async function waitingBehind(pid: number): Promise<string[]> {
  const { rows } = await db().query<{ pid: number; blockers: number[]; query: string }>(
    "select pid, pg_blocking_pids(pid) as blockers, query from pg_stat_activity where wait_event_type = 'Lock'",
  );
  const behind = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (behind.has(r.pid) || !r.blockers.some((b) => behind.has(b))) continue;
      behind.add(r.pid);
      grew = true;
    }
  }
  return rows.filter((r) => r.pid !== pid && behind.has(r.pid)).map((r) => r.query.trim().replace(/;$/, "").toUpperCase());
}

async function discountCode(brand: Awaited<ReturnType<typeof brandWithProducts>>): Promise<string> {
  const code = `LAST-${randomUUID().slice(0, 6).toUpperCase()}`;
  const input = { brandId: brand.brandId, name: code, type: "PERCENT", amount: 10, usageLimit: 5, fixedCode: code } as const;
  await ok(CreateDiscountDocument, { input }, { token: brand.owner.token });
  return code;
}

describe("the last seat, taken at commit", () => {
  it("two buyers past the early read: exactly one order, the other SOLD_OUT with nothing written; no error logged, the pool stays usable", async () => {
    const b = await brandWithProducts("EUR", [1000]);
    const p = b.products[0].id;
    const q = await createQuota(b, 1, [p]);
    const codes = [await discountCode(b), await discountCode(b)]; // one coupon each: the two never wait for each other's coupon row
    const before = await writtenFor(b);
    const logFrom = api.logs.length;

    const holder = await db().connect();
    try {
      await holder.query("begin");
      await holder.query("select 1 from quota where id = $1 for no key update", [q.id]);
      const pid = (await holder.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;
      const racing = codes.map((couponCode) => buy(b, [{ productId: p, quantity: 1 }], { couponCode }, { api: api.url }));
      // Both passed the early read (room 1) and wrote their order; both now wait at COMMIT, where the trigger takes the seat.
      await eventually(async () => expect(await waitingBehind(pid)).toEqual(["COMMIT", "COMMIT"]), 20_000);
      await holder.query("commit");
      const results = await Promise.all(racing);

      const won = results.filter(({ r }) => r.data?.createOrder);
      const lost = results.filter(({ r }) => !r.data?.createOrder);
      expect([won.length, lost.length]).toEqual([1, 1]);
      expectSoldOut(lost[0].r, p, 0);
      // Only the winner's rows: one order, its event, its hold, its coupon use.
      expect(await writtenFor(b)).toEqual({ orders: before.orders + 1, holds: before.holds + 1, couponUses: before.couponUses + 1, events: before.events + 1 });
      const loserCode = codes[results.indexOf(lost[0])];
      expect((await db().query("select uses from coupon where code = $1", [loserCode])).rows[0].uses).toBe(0);
      expect(await quotaState(b, q.id)).toEqual({ size: 1, sold: 0, held: 1, available: 0 });
    } finally {
      await holder.query("rollback").catch(() => undefined);
      holder.release();
    }

    // MikroORM surfaced the failed COMMIT as an error (answered SOLD_OUT above) without logging it
    // or the trigger's message, and the connection went back to the pool usable: 40 orders at once
    // (twice the pool) all succeed on the same process.
    const logged = api.logs.slice(logFrom).filter((l) => /"level":(40|50|60)/.test(l) || /OL001|orderline sold out/.test(l));
    expect(logged).toEqual([]);
    const other = await brandWithProducts("EUR", [500]);
    await createQuota(other, 100, [other.products[0].id]);
    const burst = await Promise.all(Array.from({ length: 40 }, () => buy(other, [{ productId: other.products[0].id, quantity: 1 }], {}, { api: api.url })));
    expect(burst.filter(({ r }) => !r.data?.createOrder).map(({ r }) => r.body)).toEqual([]);
  }, 60_000);
});
