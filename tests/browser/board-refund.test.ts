// The board's Refund action (issue #11) in real Chromium, against the run's API, whose development
// provider pays refunds back in-process: a partial refund through the dialog, then the rest, and
// the row turns REFUNDED live. Assertions are on visible text and roles, never on timing.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl, ok } from "../helpers/api";
import { eventually } from "../helpers/mail";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";
import { anonymous, brandWithProducts, PASSWORD, payOrder, placeOrder } from "../helpers/fixtures";
import { openedSubscriptions, untilSubscribed } from "../helpers/ws";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

const WAIT = { timeout: 15_000 };
const row = (page: Page, number: string) => page.getByRole("row", { name: new RegExp(`\\b${number}\\b`) });

describe.runIf(hasChromium)("the board's Refund action", { timeout: 60_000 }, () => {
  it("refunds part of a PAID order with the dialog, then the rest: the row shows the refunded total and REFUNDED", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token); // 2 × 12.50 + 4.00 = 29.00 EUR
    await payOrder(order, customer.token);

    const page = await newPage(browser);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/admin`);
    const before = await openedSubscriptions();
    await page.getByLabel("Email").fill(brand.owner.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("Live", { exact: true }).waitFor(WAIT);
    await untilSubscribed(apiUrl(), before);

    await page.getByRole("button", { name: `Refund order ${order.number}` }).click();
    const amount = page.getByLabel("Amount (EUR)");
    expect(await amount.inputValue()).toBe("29.00");
    await amount.fill("8.70");
    await page.getByRole("button", { name: "Refund", exact: true }).click();
    await page.getByRole("status").getByText(`for ${order.number} sent to the payment provider`).waitFor(WAIT);

    // The rest (the default); refunds reaching the total turn the row REFUNDED through the live feed.
    const refunded = `query ($id: ID!) { order(id: $id) { refundedTotal } }`;
    await eventually(async () => expect((await ok(refunded, { id: order.id }, { token: brand.owner.token })).order.refundedTotal).toBe(870));
    await page.reload();
    await row(page, order.number)
      .getByText(/refunded/)
      .waitFor(WAIT);
    await page.getByRole("button", { name: `Refund order ${order.number}` }).click();
    expect(await page.getByLabel("Amount (EUR)").inputValue()).toBe("20.30");
    await page.getByRole("button", { name: "Refund", exact: true }).click();
    await row(page, order.number).getByRole("cell", { name: "Refunded", exact: true }).waitFor(WAIT);
    expect(await page.getByRole("button", { name: `Refund order ${order.number}` }).count()).toBe(0);

    await screenshot(page, "board-refunded");
    expect(errors).toEqual([]);
    await page.close();
  });
});
