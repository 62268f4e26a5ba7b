// "Forgot password?" on the board's sign-in form and the emailed link's page, in real Chromium:
// ask for a link, follow it, set a new password, sign in with it. Assertions on visible text.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl } from "../helpers/api";
import { hasChromium, launchBrowser, newPage, screenshot } from "../helpers/browser";
import { signUp } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { resetTokens } from "../helpers/password-reset";

let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launchBrowser();
});
afterAll(async () => browser?.close());

const WAIT = { timeout: 15_000 };

describe.runIf(hasChromium)("password reset in the browser", { timeout: 60_000 }, () => {
  it("asks for a link from the board's sign-in form, sets the password on the linked page, and signs in with it", async () => {
    const account = await signUp("browser-reset");
    const page = await newPage(browser);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${apiUrl()}/admin`);
    await page.getByLabel("Email").fill(account.email);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await expect.poll(() => page.getByLabel("Send the reset link to").inputValue()).toBe(account.email);
    await page.getByRole("button", { name: "Email me a link" }).click();
    await page.getByText(`If ${account.email} has an account, a link to choose a new password is on its way`).waitFor(WAIT);

    const token = await eventually(async () => {
      const [t] = await resetTokens(account.email);
      if (!t) throw new Error("no reset email yet");
      return t;
    });
    await page.goto(`${apiUrl()}/password-reset/${token}`);
    await page.getByLabel(/New password/).fill("a browser-chosen password");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByText("Your password is set.").waitFor(WAIT);

    await page.goto(`${apiUrl()}/admin`);
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill("a browser-chosen password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("This account does not work for any brand yet").waitFor(WAIT); // signed in
    await screenshot(page, "password-reset-signed-in");
    expect(errors).toEqual([]);
  });
});
