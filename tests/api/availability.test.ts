import { describe, expect, it } from "vitest";
import { ok } from "../helpers/api";
import { brandWithProducts } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { subscribe } from "../helpers/ws";
import { availability, buy, createQuota } from "../helpers/quotas";

const WATCH = `subscription ($b: ID!) { availabilityChanged(brandId: $b) { available at product { id name available } } }`;

describe("availabilityChanged", () => {
  it("is public, coalesces a burst of 50 orders per product, and ends on the true value", async () => {
    const brand = await brandWithProducts("EUR", [1000, 500, 200]);
    const [a, b, unlimited] = brand.products.map((p) => p.id);
    await createQuota(brand, 1000, [a, b]);
    await createQuota(brand, 990, [a]);
    // Two storefront pages without credentials, and nobody else's brand in their events.
    const [first, second] = [await subscribe(WATCH, { b: brand.brandId }), await subscribe(WATCH, { b: brand.brandId })];
    try {
      const burst = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          buy(brand, [
            { productId: i % 2 ? a : b, quantity: 1 },
            { productId: unlimited, quantity: 1 },
          ]),
        ),
      );
      expect(burst.filter(({ r }) => r.errors)).toEqual([]);
      const truth = await availability(brand);
      expect(truth).toEqual({ [a]: 950, [b]: 950, [unlimited]: null });

      for (const sub of [first, second]) {
        // The last event of each product carries the value after the last change.
        const last = (id: string) => sub.events.filter((e) => e.data?.availabilityChanged.product.id === id).at(-1)?.data?.availabilityChanged;
        await eventually(async () => {
          expect(last(a)?.available).toBe(950);
          expect(last(b)?.available).toBe(950);
        });
        expect(sub.events.every((e) => !e.errors && e.data.availabilityChanged.available === e.data.availabilityChanged.product.available)).toBe(true);
        // Only products in a changed quota, never the unlimited one.
        expect(new Set(sub.events.map((e) => e.data.availabilityChanged.product.id))).toEqual(new Set([a, b]));
        // Coalesced: fewer events than changes, and a product's events at least 250 ms apart.
        for (const id of [a, b]) {
          const times = sub.events.filter((e) => e.data.availabilityChanged.product.id === id).map((e) => Date.parse(e.data.availabilityChanged.at));
          expect(times.length).toBeLessThan(50);
          times.slice(1).forEach((t, i) => expect(t - times[i]).toBeGreaterThanOrEqual(249));
        }
      }
      // The same events reach both pages (one read per batch on the instance, shared).
      expect(first.events.map((e) => e.data.availabilityChanged.at)).toEqual(second.events.map((e) => e.data.availabilityChanged.at));

      // A cancelled order's seats come back, and the pages hear it.
      const eventsOfA = () => first.events.filter((e) => e.data.availabilityChanged.product.id === a);
      const before = eventsOfA().length;
      const { r, token } = await buy(brand, [{ productId: a, quantity: 3 }]);
      await ok(`mutation ($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: r.data.createOrder.id }, { token });
      await eventually(async () => {
        expect(eventsOfA().length).toBeGreaterThan(before);
        expect(eventsOfA().at(-1)?.data.availabilityChanged.available).toBe(950);
      });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("answers NOT_FOUND for a brand that does not exist", async () => {
    const sub = await subscribe(WATCH, { b: "00000000-0000-4000-8000-000000000000" });
    await sub.done;
    expect(sub.events.flatMap((e) => e.errors ?? []).map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});
