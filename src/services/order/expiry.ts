import type { MikroORM } from "@mikro-orm/postgresql";
import { logger } from "../../logger";
import { expireDueOrders } from "./orders";

export const EXPIRY_SWEEP_INTERVAL_MS = 15_000; // 15 seconds

/**
 * Periodically marks unpaid orders past ORDER_TTL_MINUTES as EXPIRED. Payment and cancellation
 * check the deadline themselves, so the sweep only makes the status visible; several instances
 * can sweep at once (SKIP LOCKED).
 */
export function startExpirySweeper(orm: MikroORM, intervalMs = EXPIRY_SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = expireDueOrders(orm.em.fork())
      .then((n) => n && logger().info({ expired: n }, "expired unpaid orders"))
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
