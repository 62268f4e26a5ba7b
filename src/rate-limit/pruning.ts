import type { EntityManager } from "@mikro-orm/postgresql";
import type { SweepTask } from "../jobs/sweeper";

/** Forgets windows nobody has touched for a day. */
export async function pruneRateLimits(em: EntityManager): Promise<number> {
  const rows = await em.execute("delete from rate_limit_hits where updated_at < now() - interval '1 day' returning key");
  return rows.length;
}

/** Hourly (and at start), on the sweeper's timer (jobs/sweeper.ts). */
export const rateLimitPruning: SweepTask = {
  name: "rate-limit pruning",
  everyMs: 60 * 60_000,
  async run(em) {
    await pruneRateLimits(em);
  },
};
