import type { TestProject } from "vitest/node";
import { startFakePostmark, type FakePostmark } from "./fake-postmark";
import { startApi, startTestDatabase, TEST_WEBHOOK_SECRET, type ApiProcess, type TestDatabase } from "./processes";

declare module "vitest" {
  export interface ProvidedContext {
    apiUrl: string;
    apiPid: number;
    databaseUrl: string;
    webhookSecret: string;
    postmarkUrl: string;
  }
}

let db: TestDatabase | undefined;
let api: ApiProcess | undefined;
let postmark: FakePostmark | undefined;

/** One database and one API process for the whole run; tests isolate by creating their own brands and users. */
export async function setup(project: TestProject) {
  db = await startTestDatabase();
  postmark = await startFakePostmark();
  // TRUST_PROXY=loopback: test files present their own client address in X-Forwarded-For (see
  // helpers/api.ts), so per-IP rate limits of one file do not spend another file's budget.
  // The real postmark client talks to the fake on loopback; retries start at 200 ms instead of 30 s.
  api = await startApi({
    DATABASE_URL: db.url,
    TRUST_PROXY: "loopback",
    POSTMARK_SERVER_TOKEN: postmark.token,
    POSTMARK_API_URL: postmark.url,
    MAIL_FROM: "Orderline Tests <tests@orderline.test>",
    JOB_RETRY_BASE_MS: "200",
  });
  project.provide("apiUrl", api.url);
  project.provide("apiPid", api.pid);
  project.provide("databaseUrl", db.url);
  project.provide("webhookSecret", TEST_WEBHOOK_SECRET);
  project.provide("postmarkUrl", postmark.url);
}

export async function teardown() {
  await api?.stop();
  await postmark?.close();
  await db?.stop();
}
