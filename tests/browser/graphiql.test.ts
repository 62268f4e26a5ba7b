import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl } from "../helpers/api";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

describe.runIf(hasChromium)("GraphiQL at GET /graphql", () => {
  it("loads from the server alone (no other host contacted) and runs a query", { timeout: 60_000 }, async () => {
    const page = await newPage(browser);
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(apiUrl()) && !r.url().startsWith("data:")) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/graphql`);
    await page.locator(".graphiql-container").waitFor({ timeout: 20_000 });
    // The editors start empty and fill in once GraphiQL has set up; run the query only then.
    await expect.poll(async () => page.locator(".graphiql-query-editor").innerText(), { timeout: 20_000 }).toContain("query Me");
    const result = page.locator(".result-window");
    await expect
      .poll(
        async () => {
          const text = await result.innerText();
          if (!text.includes('"data"')) await page.locator(".graphiql-execute-button").click(); // (again) until it ran
          return text;
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('"anonymous": false');
    await screenshot(page, "graphiql");
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
