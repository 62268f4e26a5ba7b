/**
 * Issue #12, item 13: outside production the development doors (/dev/checkout, /dev/mail and a
 * /metrics without METRICS_TOKEN) answer loopback clients only, unless DEV_ROUTES=open; private
 * webhook targets other than loopback need WEBHOOK_ALLOW_PRIVATE=true.
 *
 * The run's API trusts loopback proxies (TRUST_PROXY=loopback), so a request with X-Forwarded-For
 * is a client at that address behind a local proxy, and one without is this machine.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { apiUrl, codes, count, gql, ok, testClientIp } from "../helpers/api";
import { anonymous, brandWithProducts, placeOrder, startPayment } from "../helpers/fixtures";
import { startApi, type ApiProcess } from "../helpers/processes";

const REMOTE = { "x-forwarded-for": testClientIp() }; // 2001:db8::/32, a client elsewhere
const OTHER_REMOTE = { "x-forwarded-for": "203.0.113.7" };

/** Every door, as [method, path]: a real checkout page and its Pay button, the outbox, metrics. */
function doors(externalId: string): [string, string][] {
  return [
    ["GET", `/dev/checkout/${externalId}`],
    ["POST", `/dev/checkout/${externalId}/pay`],
    ["GET", "/dev/mail"],
    ["GET", "/dev/mail/00000000-0000-0000-0000-000000000000"],
    ["GET", "/metrics"],
  ];
}

const knock = (base: string, [method, path]: [string, string], headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, headers, redirect: "manual" });

async function pendingAttempt() {
  const brand = await brandWithProducts();
  const customer = await anonymous();
  const order = await placeOrder(brand, customer.token);
  const attempt = await startPayment(order.id, customer.token);
  return { order, externalId: attempt.externalId };
}

const orderStatus = async (id: string) => count("select 1 from orders where id = $1 and status = 'PAID'", [id]);

describe("development doors outside production (NODE_ENV=test, DEV_ROUTES unset)", () => {
  it("answer 404 to a client elsewhere, like an unknown path, and mark nothing paid", async () => {
    const { order, externalId } = await pendingAttempt();
    for (const door of doors(externalId)) {
      for (const headers of [REMOTE, OTHER_REMOTE]) {
        const res = await knock(apiUrl(), door, headers);
        expect(res.status, door.join(" ")).toBe(404);
        expect(await res.json()).toEqual({ error: "not found" });
      }
    }
    expect(await orderStatus(order.id)).toBe(0);
  });

  it("still work from this machine: the checkout page, its Pay button, the outbox and metrics", async () => {
    const { order, externalId } = await pendingAttempt();
    const [page, pay, mail, , metrics] = doors(externalId);
    expect((await knock(apiUrl(), page)).status).toBe(200);
    expect((await knock(apiUrl(), mail)).status).toBe(200);
    expect((await knock(apiUrl(), metrics)).status).toBe(200);
    // Through a trusted local proxy that reports a loopback client, too.
    expect((await knock(apiUrl(), page, { "x-forwarded-for": "127.0.0.1" })).status).toBe(200);
    expect((await knock(apiUrl(), pay)).status).toBe(303);
    expect(await orderStatus(order.id)).toBe(1);
  });
});

describe("private webhook targets outside production (WEBHOOK_ALLOW_PRIVATE unset)", () => {
  it("accept loopback (a shop on this machine) and refuse the other private ranges", async () => {
    const brand = await brandWithProducts();
    const update = (url: string) =>
      gql(
        `mutation ($id: ID!, $url: String) { updateBrand(id: $id, input: { couponWebhookUrl: $url }) { couponWebhookUrl } }`,
        { id: brand.brandId, url },
        { token: brand.owner.token },
      );
    for (const url of [
      "http://10.1.2.3/hook",
      "http://192.168.1.10:8080/",
      "http://169.254.169.254/latest/meta-data",
      "http://[fd00::1]/",
      "http://printer.local/",
    ]) {
      const r = await update(url);
      expect(codes(r), url).toEqual(["BAD_USER_INPUT"]);
      expect(r.errors![0].extensions?.field).toBe("input.couponWebhookUrl");
    }
    for (const url of ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"]) {
      expect(
        (
          await ok(
            `mutation ($id: ID!, $url: String) { updateBrand(id: $id, input: { couponWebhookUrl: $url }) { couponWebhookUrl } }`,
            { id: brand.brandId, url },
            { token: brand.owner.token },
          )
        ).updateBrand.couponWebhookUrl,
      ).toBe(url);
    }
  });
});

describe("DEV_ROUTES=open", () => {
  let open: ApiProcess;
  beforeAll(async () => {
    open = await startApi({ DATABASE_URL: inject("databaseUrl"), TRUST_PROXY: "loopback", DEV_ROUTES: "open", RUN_WORKER: "false" });
  });
  afterAll(async () => open?.stop());

  it("opens every door to clients elsewhere, and says so at start", async () => {
    const { order, externalId } = await pendingAttempt();
    const [page, pay, mail, , metrics] = doors(externalId);
    for (const door of [page, mail, metrics]) expect((await knock(open.url, door, REMOTE)).status, door.join(" ")).toBe(200);
    expect((await knock(open.url, pay, REMOTE)).status).toBe(303);
    expect(await orderStatus(order.id)).toBe(1);
    expect(open.logs.some((l) => l.includes("DEV_ROUTES=open: anyone who can reach this server"))).toBe(true);
  });
});
