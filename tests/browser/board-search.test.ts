// The board's search box, status filter and Export button (issue #16) in real Chromium: the table
// narrows to what searchOrders finds, and Export downloads orders.csv with the same filters.
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl } from "../helpers/api";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";
import { anonymous, brandWithProducts, PASSWORD, payOrder, placeOrder } from "../helpers/fixtures";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

const WAIT = { timeout: 15_000 };
const bodyRows = (page: Page) =>
  page
    .getByRole("table", { name: /Orders of/ })
    .locator("tbody")
    .getByRole("row");

describe.runIf(hasChromium)("board search and export", { timeout: 60_000 }, () => {
  it("narrows the table by a search and a status, and exports what it shows as CSV", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const ada = await placeOrder(brand, customer.token, { buyer: { name: "Ada Searchable", email: "ada.search@example.test" }, attendees: [] });
    const bea = await placeOrder(brand, customer.token, { buyer: { name: "Bea Searchable", email: "bea.search@example.test" }, attendees: [] });
    const other = await placeOrder(brand, customer.token, { buyer: { name: "Cy Other", email: "cy@example.test" }, attendees: [] });
    await payOrder(bea, customer.token);

    const page = await newPage(browser);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/admin`);
    await page.getByLabel("Email").fill(brand.owner.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => bodyRows(page).count(), WAIT).toBe(3);

    await page.getByLabel("Search").fill("SEARCHABLE");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => bodyRows(page).count(), WAIT).toBe(2);
    const shown = await bodyRows(page).allInnerTexts();
    expect(shown.some((t) => t.includes(ada.number)) && shown.some((t) => t.includes(bea.number))).toBe(true);
    expect(shown.some((t) => t.includes(other.number))).toBe(false);

    await page.getByLabel("Status").selectOption("PAID");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => bodyRows(page).count(), WAIT).toBe(1);
    expect(await bodyRows(page).nth(0).innerText()).toContain(bea.number);

    const [download] = await Promise.all([page.waitForEvent("download", WAIT), page.getByRole("button", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^orders-[0-9a-f]{8}\.csv$/);
    const csv = readFileSync((await download.path())!, "utf8");
    expect(csv.startsWith("\uFEFFnumber,created_at,status,")).toBe(true);
    const records = csv.trimEnd().split("\r\n");
    expect(records.length).toBe(2);
    expect(records[1].startsWith(`${bea.number},`)).toBe(true);

    // A search an index cannot serve is refused with the API's message, and the table stays.
    await page.getByLabel("Search").fill("ab");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => page.getByRole("status").innerText(), WAIT).toMatch(/3 letters or digits/);

    await screenshot(page, "board-search");
    expect(errors).toEqual([]);
    await page.close();
  });
});
