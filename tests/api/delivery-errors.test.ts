/**
 * Issue #12, item 12: what brand members read about a failed coupon delivery names no address,
 * port or errno code of our network; the detail is in the API's log, with the delivery id.
 *
 * Two API processes on a database of their own, one after the other: the first (private targets
 * allowed, no worker) accepts a shop URL on 10.1.2.3 and queues a delivery to it, as a brand could
 * before WEBHOOK_ALLOW_PRIVATE was turned off; the second (the default outside production:
 * loopback only, with the worker) refuses to connect there, and tries a closed port on 127.0.0.1.
 */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CreateFanDiscountDocument, FansDocument, RegisterFanDocument, UpdateBrandDocument } from "../graphql/generated";
import { ok, uniqueEmail } from "../helpers/api";
import { eventually } from "../helpers/mail";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";
import { brandOn } from "../faults/support";

let db: TestDatabase;
let api: ApiProcess | undefined;

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "delivery_errors");
});
afterAll(async () => {
  await api?.stop();
  await db?.stop();
});

/** A brand on `base` whose shop is `url`, with one fan registered (its coupon delivery queued). */
async function brandWithFan(base: string, url: string) {
  const brand = await brandOn(base);
  const auth = { api: base, token: brand.owner.token };
  await ok(UpdateBrandDocument, { id: brand.brandId, input: { couponWebhookUrl: url } }, auth);
  const { createDiscount } = await ok(CreateFanDiscountDocument, { input: { brandId: brand.brandId, name: "Fans", type: "PERCENT", amount: 10 } }, auth);
  await ok(RegisterFanDocument, { input: { discountId: createDiscount.id, name: "A Fan", email: uniqueEmail("fan") } }, { api: base });
  return { brand, auth };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("a failed coupon delivery as brand members see it", () => {
  it("says 'address not allowed' and 'could not connect'; the address, port and errno are only in the log", async () => {
    const lenient = await startApi({ DATABASE_URL: db.url, WEBHOOK_ALLOW_PRIVATE: "true", RUN_WORKER: "false" });
    let privateShop: Awaited<ReturnType<typeof brandWithFan>>;
    try {
      privateShop = await brandWithFan(lenient.url, "http://10.1.2.3:5432/coupons");
    } finally {
      await lenient.stop();
    }
    // The default outside production: loopback targets only. A long retry base: one try each.
    api = await startApi({ DATABASE_URL: db.url, RUN_WORKER: "true", JOB_RETRY_BASE_MS: "600000" });
    const port = await closedPort();
    const closedShop = await brandWithFan(api.url, `http://127.0.0.1:${port}/coupons`);

    const deliveryOf = async (shop: typeof closedShop) => {
      const { fans } = await ok(FansDocument, { brandId: shop.brand.brandId, first: 10 }, { ...shop.auth, api: api!.url });
      const [delivery] = fans.edges[0].node.couponDeliveries;
      expect(delivery.tries.length).toBeGreaterThanOrEqual(1);
      return { delivery, answer: JSON.stringify(fans) };
    };
    const refused = await eventually(() => deliveryOf(privateShop), 20_000);
    const closed = await eventually(() => deliveryOf(closedShop), 20_000);

    expect(refused.delivery).toMatchObject({ status: "PENDING", lastError: "address not allowed" });
    expect(refused.delivery.tries[0]).toMatchObject({ statusCode: null, error: "address not allowed" });
    expect(closed.delivery).toMatchObject({ status: "PENDING", lastError: "could not connect" });
    expect(closed.delivery.tries[0]).toMatchObject({ statusCode: null, error: "could not connect" });
    // The answers name nothing of the network (the URL the brand set itself aside).
    const errors = JSON.stringify([refused.delivery.tries, refused.delivery.lastError, closed.delivery.tries, closed.delivery.lastError]);
    expect(errors).not.toMatch(/10\.1\.2\.3|127\.0\.0\.1|5432|ECONN|ENOTFOUND|private address/);
    expect(errors).not.toContain(String(port));

    // The log has the detail, under the delivery's id.
    const logged = (id: string) => api!.logs.filter((l) => l.includes(id) && l.includes("coupon delivery try failed")).join("\n");
    expect(logged(refused.delivery.id)).toMatch(/private address \(10\.1\.2\.3\)/);
    expect(logged(closed.delivery.id)).toMatch(new RegExp(`ECONNREFUSED.*127\\.0\\.0\\.1:${port}|127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });
});
