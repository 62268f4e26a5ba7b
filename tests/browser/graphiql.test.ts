import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl } from "../helpers/api";
import { hasChromium, launchBrowser, screenshot } from "../helpers/browser";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

describe.runIf(hasChromium)("GraphiQL at GET /graphql", () => {
  it("loads from the server alone (no other host contacted) and runs a query", async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(apiUrl()) && !r.url().startsWith("data:")) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/graphql`);
    await page.locator(".graphiql-container").waitFor({ timeout: 20_000 });
    await page.locator(".graphiql-execute-button").click();
    const result = page.locator(".result-window");
    await expect.poll(async () => result.innerText(), { timeout: 10_000 }).toContain('"anonymous": false');
    await screenshot(page, "graphiql");
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
