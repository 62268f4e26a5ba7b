import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../config/env";
import type { Sql } from "../db/sql";
import type { Viewer } from "./auth/viewer";
import type { Loaders } from "./loaders";

/** What every service call gets: its own EntityManager fork, the caller and the configuration. */
export interface ServiceContext {
  em: EntityManager;
  viewer: Viewer;
  config: Config;
  /** Per-request batching for the read model (see loaders.ts). */
  loaders: Loaders;
  /** The read model's pool: hand-written SQL for the hot read paths. */
  sql: Sql;
  /** The client's address (set for GraphQL requests; absent for scripts): per-address failure budgets. */
  clientIp?: string;
}
