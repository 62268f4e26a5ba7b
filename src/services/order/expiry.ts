import { SWEEP_INTERVAL_MS, type SweepTask } from "../../jobs/sweeper";
import { logger } from "../../logger";
import { expireDueOrders } from "./orders";

/**
 * Marks unpaid orders past ORDER_TTL_MINUTES as EXPIRED, on every sweep (15 s, jobs/sweeper.ts).
 * Payment and cancellation check the deadline themselves, so the sweep only makes the status
 * visible; several instances can sweep at once (SKIP LOCKED).
 */
export const orderExpirySweep: SweepTask = {
  name: "order expiry sweep",
  everyMs: SWEEP_INTERVAL_MS,
  async run(em) {
    const n = await expireDueOrders(em);
    if (n) logger().info({ expired: n }, "expired unpaid orders");
  },
};
