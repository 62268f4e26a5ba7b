import type { EntityManager } from "@mikro-orm/postgresql";
import { hourly } from "../jobs/sweeper";

/** Forgets windows nobody has touched for a day. */
export async function pruneRateLimits(em: EntityManager): Promise<number> {
  const rows = await em.execute("delete from rate_limit_hits where updated_at < now() - interval '1 day' returning key");
  return rows.length;
}

export const rateLimitPruning = hourly("rate-limit pruning", pruneRateLimits);
