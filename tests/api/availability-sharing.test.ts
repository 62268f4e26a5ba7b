import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ok } from "../helpers/api";
import { anonymous, brandWithProducts, payOrder, placeOrder } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startSecondApi, type ApiProcess } from "../helpers/processes";
import { subscribe, type LiveSubscription } from "../helpers/ws";

// A second API process of its own: its counters see only this file's subscriptions.
let apiB: ApiProcess;
beforeAll(async () => {
  apiB = await startSecondApi(inject("databaseUrl"));
});
afterAll(async () => {
  await apiB?.stop();
});

const AVAILABILITY = `subscription Availability($brandId: ID!) { availabilityChanged(brandId: $brandId) { product { id } available at } }`;
const CREATE_QUOTA = `mutation CreateQuota($input: CreateQuotaInput!) { createQuota(input: $input) { id } }`;

/** Subscription executions on an instance so far, public and per viewer (GET /metrics, served to loopback outside production). */
async function executions(base: string): Promise<{ public: number; viewer: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (sharing: string) =>
    Number(new RegExp(`^orderline_subscription_executions_total\\{sharing="${sharing}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { public: count("public"), viewer: count("viewer") };
}

const seen = (s: LiveSubscription) => s.events.map((e) => e.data?.availabilityChanged ?? e.errors);

describe("availabilityChanged: one execution per change and instance, shared by every socket", () => {
  it("50 sockets of visitors, sessions and staff with one document get the same events from one execution each", async () => {
    const brand = await brandWithProducts();
    const product = brand.products[0].id;
    await ok(CREATE_QUOTA, { input: { brandId: brand.brandId, name: "Hall", size: 5, productIds: [product] } }, { token: brand.owner.token });
    const sessions = await Promise.all(Array.from({ length: 10 }, () => anonymous()));
    const opts = (i: number) => (i % 5 === 0 ? { token: brand.owner.token } : i % 5 === 1 ? { token: sessions[Math.floor(i / 5)].token } : {});
    const subs = await Promise.all(Array.from({ length: 50 }, (_, i) => subscribe(AVAILABILITY, { brandId: brand.brandId }, { ...opts(i), base: apiB.url })));
    try {
      const before = await executions(apiB.url);
      // Three seats taken, one paid: availability goes 5 → 2 and stays there.
      const buyer = await anonymous();
      const orders = [];
      for (let i = 0; i < 3; i++) orders.push(await placeOrder(brand, buyer.token, { lines: [{ productId: product, quantity: 1 }] }));
      await payOrder(orders[0], buyer.token);

      // Coalesced: however many events, every socket ends on the true value…
      await eventually(async () => {
        for (const s of subs) expect(seen(s).at(-1)).toMatchObject({ product: { id: product }, available: 2 });
      });
      // …and every socket got exactly the same events, each executed once on this instance.
      const first = seen(subs[0]);
      for (const s of subs) expect(seen(s)).toEqual(first);
      expect(first.every((e) => typeof e?.at === "string" && e.product?.id === product)).toBe(true);
      // (Shared per viewer instead, the 12 viewers here would cost 12 executions per event.)
      const after = await executions(apiB.url);
      expect({ public: after.public - before.public, viewer: after.viewer - before.viewer }).toEqual({ public: first.length, viewer: 0 });
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });
});
