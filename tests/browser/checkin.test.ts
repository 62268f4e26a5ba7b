// The board's check-in view in real Chromium: a code typed into the focused field and Enter (what a
// USB barcode scanner does) shows a green OK with the holder's name, the live count moves, and the
// same code again shows ALREADY_CHECKED_IN with the first scan's time. Assertions on visible text.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl, ok } from "../helpers/api";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";
import { anonymous, brandWithProducts, PASSWORD, payOrder, placeOrder } from "../helpers/fixtures";
import { openedSubscriptions, untilSubscribed } from "../helpers/ws";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

const WAIT = { timeout: 15_000 };
// Functions below run in the page (evaluate), written without the DOM library the tests compile without.
type PageGlobals = { getComputedStyle(e: unknown): { backgroundColor: string } };
type Matching = { matches(selector: string): boolean };

describe.runIf(hasChromium)("check-in view at /admin", { timeout: 60_000 }, () => {
  it("a scanned code + Enter shows a green OK with the holder, the live count, then ALREADY_CHECKED_IN on a second scan", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();
    const attendees = [
      { name: "Dora Door", email: "dora@example.test" },
      { name: "Emil Door", email: "emil@example.test" },
    ];
    const order = await placeOrder(brand, customer.token, { attendees });
    await payOrder(order, customer.token);
    const { order: withTickets } = await ok(`query ($id: ID!) { order(id: $id) { tickets { code } } }`, { id: order.id }, { token: brand.owner.token });
    const code = withTickets.tickets[1].code as string;

    const page = await newPage(browser);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/admin`);
    await page.getByLabel("Email").fill(brand.owner.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("table", { name: /Orders of/ }).waitFor(WAIT);

    const before = await openedSubscriptions();
    await page.getByRole("button", { name: "Check-in" }).click();
    const field = page.getByLabel(/Ticket code/);
    await expect.poll(() => field.evaluate((el) => (el as unknown as Matching).matches(":focus")), WAIT).toBe(true);
    await expect.poll(() => page.locator("#checkin-count").innerText(), WAIT).toBe("0 of 2 checked in");
    await untilSubscribed(apiUrl(), before); // checkInsChanged registered: the count below comes from it

    // The scanner "types" into whatever has the focus, then presses Enter.
    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
    const result = page.locator("#checkin-result");
    await expect.poll(() => result.getAttribute("data-outcome"), WAIT).toBe("OK");
    expect(await result.innerText()).toContain("OK — let in");
    expect(await result.innerText()).toContain("Emil Door");
    expect(await result.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor)).toBe("rgb(31, 122, 58)"); // green
    await expect.poll(() => page.locator("#checkin-count").innerText(), WAIT).toBe("1 of 2 checked in");
    expect(await field.inputValue()).toBe(""); // cleared, and still focused for the next scan
    expect(await field.evaluate((el) => (el as unknown as Matching).matches(":focus"))).toBe(true);
    await screenshot(page, "checkin-ok");

    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
    await expect.poll(() => result.getAttribute("data-outcome"), WAIT).toBe("ALREADY_CHECKED_IN");
    expect(await result.innerText()).toMatch(/Already checked in[\s\S]*Emil Door — first scanned at \d/);
    expect(await result.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor)).toBe("rgb(255, 214, 102)"); // amber
    await screenshot(page, "checkin-already");

    await page.keyboard.type("OL-FORGED-1-xxxxxxxxxx");
    await page.keyboard.press("Enter");
    await expect.poll(() => result.getAttribute("data-outcome"), WAIT).toBe("UNKNOWN");
    expect(await result.innerText()).toContain("UNKNOWN");
    expect(await page.locator("#checkin-count").innerText()).toBe("1 of 2 checked in");
    expect(errors).toEqual([]);
  });
});
