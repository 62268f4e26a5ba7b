// The admin order board at /admin in real Chromium: logging in through the form, the brand's
// orders (one row per order), live updates from the orderStatusChanged subscription, Fulfil, and
// the resend rate limit. Assertions are on visible text and roles, never on timing.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl } from "../helpers/api";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";
import { anonymous, brandWithProducts, PASSWORD, payOrder, placeOrder, type BrandSetup } from "../helpers/fixtures";
import { openedSubscriptions, untilSubscribed } from "../helpers/ws";
import { createQuota } from "../helpers/quotas";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

const WAIT = { timeout: 15_000 };

/** A page on /admin that records uncaught errors and requests to any other host. */
async function openAdmin(): Promise<{ page: Page; errors: string[]; foreign: string[] }> {
  const page = await newPage(browser); // a fresh context: empty storage, its own client address
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith(apiUrl()) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  await page.goto(`${apiUrl()}/admin`);
  return { page, errors, foreign };
}

/** Logs in through the form as the brand's owner and waits for its table and the live feed. */
async function logIn(page: Page, brand: BrandSetup): Promise<void> {
  const before = await openedSubscriptions();
  await page.getByLabel("Email").fill(brand.owner.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("table", { name: /Orders of/ }).waitFor(WAIT);
  await page.getByText("Live", { exact: true }).waitFor(WAIT);
  // "Live" means the socket is acknowledged; the server registers the subscription a moment later.
  await untilSubscribed(apiUrl(), before);
}

const row = (page: Page, number: string) => page.getByRole("row", { name: new RegExp(`\\b${number}\\b`) });
const statusCell = (page: Page, number: string, status: string) => row(page, number).getByRole("cell", { name: status, exact: true });
const message = (page: Page) => page.getByRole("status");

describe.runIf(hasChromium)("admin order board at /admin", { timeout: 60_000 }, () => {
  it("logs in through the form and shows the brand's orders, one row per order", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const pending = await placeOrder(brand, customer.token);
    const paid = await placeOrder(brand, customer.token, { buyer: { name: "Bea Paid", email: "bea@example.test" } });
    await payOrder(paid, customer.token);

    const { page, errors, foreign } = await openAdmin();
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).isVisible(), WAIT).toBe(true);
    await logIn(page, brand);

    const table = page.getByRole("table", { name: /Orders of/ });
    expect(await table.locator("caption").innerText()).toContain(`Brand ${brand.owner.email}`);
    expect(await page.getByLabel("Brand").locator("option:checked").innerText()).toBe(`Brand ${brand.owner.email}`);
    // Column headers, then exactly one row per order, newest first.
    const headers = await table.getByRole("columnheader").allInnerTexts();
    expect(headers.map((h) => h.toLowerCase())).toEqual(["order", "buyer", "total", "status", "paid", "fulfilled", "actions"]);
    const rows = table.locator("tbody").getByRole("row");
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    expect(await row(page, pending.number).count()).toBe(1);
    expect(await row(page, paid.number).count()).toBe(1);
    expect(await rows.nth(0).innerText()).toContain(paid.number);

    // 2 × 12.50 + 4.00 EUR, the buyer's name and email, the status and the actions it allows.
    const paidRow = row(page, paid.number);
    expect(await paidRow.innerText()).toMatch(/€29\.00/);
    expect(await paidRow.innerText()).toContain("Bea Paid");
    expect(await paidRow.innerText()).toContain("bea@example.test");
    expect(await statusCell(page, paid.number, "Paid").count()).toBe(1);
    expect(await statusCell(page, pending.number, "Pending").count()).toBe(1);
    expect(await page.getByRole("button", { name: `Fulfil order ${paid.number}` }).count()).toBe(1);
    expect(await page.getByRole("button", { name: `Resend confirmation for ${paid.number}` }).count()).toBe(1);
    expect(await row(page, pending.number).getByRole("button").count()).toBe(0);

    await screenshot(page, "board-orders");
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]); // works offline: nothing but the API's own host
    await page.close();
  });

  it("turns a row PAID when the order is paid elsewhere, and shows a new order as it is placed, without reloading", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const listed = await placeOrder(brand, customer.token);

    const { page, errors } = await openAdmin();
    await logIn(page, brand);
    await statusCell(page, listed.number, "Pending").waitFor(WAIT);
    // A marker in the page's global scope: it survives only if the page is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));

    // Paid through the API (the provider's signed webhook) while the page is open.
    await payOrder(listed, customer.token);
    await statusCell(page, listed.number, "Paid").waitFor(WAIT);
    await page.getByRole("button", { name: `Fulfil order ${listed.number}` }).waitFor(WAIT);

    // An order placed after the page loaded appears as it is placed, at the top, and turns PAID.
    const fresh = await placeOrder(brand, customer.token, { buyer: { name: "Nina New", email: "nina@example.test" } });
    await statusCell(page, fresh.number, "Pending").waitFor(WAIT);
    await payOrder(fresh, customer.token);
    await statusCell(page, fresh.number, "Paid").waitFor(WAIT);
    const rows = page
      .getByRole("table", { name: /Orders of/ })
      .locator("tbody")
      .getByRole("row");
    expect(await rows.nth(0).innerText()).toContain(fresh.number);
    expect(await row(page, fresh.number).innerText()).toContain("Nina New");
    expect(await rows.count()).toBe(2);

    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, "board-live");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows each product's availability and keeps it live (availabilityChanged)", async () => {
    const brand = await brandWithProducts();
    await createQuota(brand, 10, [brand.products[0].id]);
    const customer = await anonymous();
    await placeOrder(brand, customer.token); // 2 × Product 1, 1 × Product 2 (the table shows once there is an order)
    const { page, errors } = await openAdmin();
    const before = await openedSubscriptions();
    await logIn(page, brand);
    await untilSubscribed(apiUrl(), before + 1); // the orders feed and the availability feed
    const availability = page.getByRole("region", { name: "Availability" });
    await availability.getByText("Product 1: 8 left").waitFor(WAIT);
    await availability.getByText("Product 2: unlimited").waitFor(WAIT);
    await placeOrder(brand, customer.token);
    await availability.getByText("Product 1: 6 left").waitFor(WAIT);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("fulfils a PAID order with the Fulfil button", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);

    const { page, errors } = await openAdmin();
    await logIn(page, brand);
    await page.getByRole("button", { name: `Fulfil order ${order.number}` }).click();

    await message(page).getByText(`Order ${order.number} fulfilled`).waitFor(WAIT);
    await statusCell(page, order.number, "Fulfilled").waitFor(WAIT);
    expect(await page.getByRole("button", { name: `Fulfil order ${order.number}` }).count()).toBe(0);
    // Still resendable; the fulfilled time is filled in.
    expect(await page.getByRole("button", { name: `Resend confirmation for ${order.number}` }).count()).toBe(1);
    expect(await row(page, order.number).locator("time").count()).toBe(2);

    await screenshot(page, "board-fulfilled");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the rate-limit message with the seconds to wait on the sixth Resend within a minute", async () => {
    // A fresh owner: the limit that applies is the per-user one (5 a minute).
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const a = await placeOrder(brand, customer.token);
    const b = await placeOrder(brand, customer.token, { buyer: { name: "Bo Second", email: "bo@example.test" }, attendees: [] });
    await payOrder(a, customer.token);
    await payOrder(b, customer.token);

    const { page, errors } = await openAdmin();
    await logIn(page, brand);
    // Alternate between the two orders so that each success message differs from the previous one.
    const sequence = [a, b, a, b, a];
    for (const order of sequence) {
      await page.getByRole("button", { name: `Resend confirmation for ${order.number}` }).click();
      const sentTo = order === a ? "ada@example.test, tim@example.test" : "bo@example.test";
      await message(page).getByText(`Confirmation for ${order.number} sent to ${sentTo}`).waitFor(WAIT);
    }
    await page.getByRole("button", { name: `Resend confirmation for ${b.number}` }).click();
    const limited = message(page).getByText(/Only 5 resends a minute — try again in \d+ s/);
    await limited.waitFor(WAIT);
    const seconds = Number(/try again in (\d+) s/.exec(await limited.innerText())![1]);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);

    await screenshot(page, "board-rate-limited");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("sends an invalid or expired token back to the log-in form with a message", async () => {
    const { page } = await openAdmin();
    type Storage = { sessionStorage: { setItem(key: string, value: string): void } };
    await page.evaluate(() => (globalThis as unknown as Storage).sessionStorage.setItem("orderline.board.token", "not-a-valid-token"));
    await page.reload();
    await message(page)
      .getByText(/session has expired or is no longer valid/)
      .waitFor(WAIT);
    expect(await page.getByLabel("Email").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Log out" }).isVisible()).toBe(false);
    await page.close();
  });
});
