import type { MikroORM } from "@mikro-orm/postgresql";
import { logger } from "../../logger";
import { pruneRateLimits } from "../../rate-limit/limiter";
import { expireDueOrders } from "./orders";

export const EXPIRY_SWEEP_INTERVAL_MS = 15_000; // 15 seconds
const PRUNE_EVERY = 240; // sweeps: once an hour

/**
 * Periodically marks unpaid orders past ORDER_TTL_MINUTES as EXPIRED (and, hourly, forgets idle
 * rate-limit windows). Payment and cancellation
 * check the deadline themselves, so the sweep only makes the status visible; several instances
 * can sweep at once (SKIP LOCKED).
 */
export function startExpirySweeper(orm: MikroORM, intervalMs = EXPIRY_SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let sweeps = 0;
  const sweep = () => {
    const prune = sweeps++ % PRUNE_EVERY === 0;
    running = expireDueOrders(orm.em.fork())
      .then(async (n) => {
        if (n) logger().info({ expired: n }, "expired unpaid orders");
        if (prune) await pruneRateLimits(orm.em.fork());
      })
      .catch((err) => logger().error({ err }, "order expiry sweep failed"));
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  sweep();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
