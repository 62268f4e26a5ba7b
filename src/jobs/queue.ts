import type { EntityManager } from "@mikro-orm/postgresql";
import { Logger as WorkerLogger, runMigrations } from "graphile-worker";
import { logger } from "../logger";

/** Job names the worker knows. */
export const Task = {
  SEND_EMAIL: "send_email",
  /** The name of webhook delivery jobs queued before order webhooks existed (same handler). */
  DELIVER_COUPON: "deliver_coupon",
  /** Coupon and order webhooks (src/webhooks/delivery.ts). */
  DELIVER_WEBHOOK: "deliver_webhook",
  REFUND_PAYMENT: "refund_payment",
} as const;
export type TaskName = (typeof Task)[keyof typeof Task];

export interface EnqueueOptions {
  /** At most one waiting job per key (a second enqueue replaces the first). */
  jobKey?: string;
  runAt?: Date;
  /** graphile-worker's own retries, for crashes and thrown errors (its backoff: e^attempts seconds). */
  maxAttempts?: number;
}

/**
 * Adds a job in the caller's transaction: committed with the change that causes it, gone with
 * its rollback. `em` must be the transactional EntityManager.
 */
export async function enqueue(em: EntityManager, task: TaskName, payload: Record<string, unknown>, opts: EnqueueOptions = {}) {
  await em.execute(`select graphile_worker.add_job(?, ?::json, run_at => ?::timestamptz, max_attempts => ?, job_key => ?)`, [
    task,
    JSON.stringify(payload),
    (opts.runAt ?? new Date()).toISOString(),
    opts.maxAttempts ?? 25,
    opts.jobKey ?? null,
  ]);
}

/** Creates or updates graphile-worker's schema (its own migrations, idempotent). */
export async function migrateJobQueue(connectionString: string) {
  await runMigrations({ connectionString, logger: quietLogger() });
}

/** graphile-worker's log lines, through pino. */
export function quietLogger(): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const log = logger().child({ component: "worker" });
    // graphile-worker passes errors as `error`; our `err` serializer trims database internals.
    const { error, ...rest } = (meta ?? {}) as Record<string, unknown>;
    const fields = error ? { ...rest, err: error } : rest;
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else log.debug(fields, message);
  });
}
