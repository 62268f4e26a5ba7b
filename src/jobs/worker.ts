import type { MikroORM } from "@mikro-orm/postgresql";
import { run, type Runner } from "graphile-worker";
import type { Config } from "../config/env";
import { outboxMailer } from "../email/outbox";
import { postmarkMailer } from "../email/postmark";
import { sendEmailTask } from "../email/send-email";
import { logger } from "../logger";
import { deliverCouponTask } from "../webhooks/coupon-delivery";
import { Task, quietLogger } from "./queue";

export const WORKER_CONCURRENCY = 4;

/** Runs the job worker (graphile-worker on the same PostgreSQL) until `stop()`. */
export async function startWorker(orm: MikroORM, config: Config, connectionString: string): Promise<{ stop(): Promise<void> }> {
  const mailer = config.mail.postmarkServerToken ? postmarkMailer(config) : outboxMailer(config);
  const runner: Runner = await run({
    connectionString,
    concurrency: WORKER_CONCURRENCY,
    noHandleSignals: true, // main.ts owns shutdown
    pollInterval: 2_000, // new jobs arrive by LISTEN/NOTIFY at once; polling only catches run_at
    logger: quietLogger(),
    taskList: {
      [Task.SEND_EMAIL]: sendEmailTask(orm, config, mailer),
      [Task.DELIVER_COUPON]: deliverCouponTask(orm, config),
    },
  });
  logger().info({ mailer: mailer.name, concurrency: WORKER_CONCURRENCY }, "job worker running");
  return { stop: () => runner.stop() };
}
