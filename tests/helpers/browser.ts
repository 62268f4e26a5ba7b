import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { testClientIp } from "./api";
import { ROOT } from "./processes";

/** Debian's chromium package (apt-get install chromium); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);
export const ARTIFACTS = join(ROOT, "tests", "artifacts");

if (!hasChromium) {
  // npm test must pass on a machine with only Node and npm; say loudly what did not run.
  console.warn(
    `\n*** Browser tests SKIPPED: no Chromium at ${CHROMIUM_PATH}. Install Debian's chromium ` +
      "(apt-get install chromium) or set CHROMIUM_PATH. .ci/run installs it. ***\n",
  );
}

/**
 * Headless Chromium with the flags this machine needs (no sandbox as root, no background
 * networking: the network is closed) and a fresh profile.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Saves a full-page screenshot under tests/artifacts (kept by CI as a test artifact). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A page in a fresh context (empty storage) presenting its own client address, like the API test
 * files do: the test server trusts loopback proxies, so per-IP rate limits of other tests (or
 * other API processes on the same database seeing 127.0.0.1) are not shared with the page.
 */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": testClientIp() } });
  const page = await context.newPage();
  page.on("close", () => context.close().catch(() => undefined)); // the browser may be closing too
  return page;
}
