import type { TestProject } from "vitest/node";
import { startApi, startTestDatabase, TEST_WEBHOOK_SECRET, type ApiProcess, type TestDatabase } from "./processes";

declare module "vitest" {
  export interface ProvidedContext {
    apiUrl: string;
    apiPid: number;
    databaseUrl: string;
    webhookSecret: string;
  }
}

let db: TestDatabase | undefined;
let api: ApiProcess | undefined;

/** One database and one API process for the whole run; tests isolate by creating their own brands and users. */
export async function setup(project: TestProject) {
  db = await startTestDatabase();
  api = await startApi({ DATABASE_URL: db.url });
  project.provide("apiUrl", api.url);
  project.provide("apiPid", api.pid);
  project.provide("databaseUrl", db.url);
  project.provide("webhookSecret", TEST_WEBHOOK_SECRET);
}

export async function teardown() {
  await api?.stop();
  await db?.stop();
}
