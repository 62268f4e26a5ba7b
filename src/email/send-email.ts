import { LockMode } from "@mikro-orm/core";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Task as WorkerTask } from "graphile-worker";
import type { Config } from "../config/env";
import { EmailMessage, EmailStatus } from "../entities";
import { Task, enqueue } from "../jobs/queue";
import { retryDelayMs } from "../jobs/retry";
import { logger } from "../logger";
import { recordEmailOutcome } from "../observability/metrics";
import { composeEmail } from "../services/confirmation/messages";
import { MailError, type Mailer } from "./mailer";

/** Deliveries tried before an email is marked FAILED (retryable failures only). */
export const MAX_EMAIL_ATTEMPTS = 10;

/**
 * The `send_email` job: re-reads the email (skips it unless still QUEUED), renders it from the
 * order's current state, sends it and records the outcome, all while holding the email's row lock
 * so two jobs for one email never both send. Retryable failures reschedule the job with our own
 * backoff; a rejected recipient fails at once; a configuration error keeps the email queued.
 */
export function sendEmailTask(orm: MikroORM, config: Config, mailer: Mailer): WorkerTask {
  return async (payload) => {
    const emailId = (payload as { emailId?: string })?.emailId;
    if (typeof emailId !== "string") return;
    const log = logger().child({ job: Task.SEND_EMAIL, emailId });
    await orm.em.fork().transactional(async (tx) => {
      const email = await tx.findOne(EmailMessage, emailId, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      if (!email || email.status !== EmailStatus.QUEUED) return; // sent, failed, or being sent by another job
      const mail = await composeEmail(tx, email, config);
      if (!mail) {
        email.status = EmailStatus.FAILED;
        email.lastError = "nothing to send any more (order or recipient gone)";
        recordEmailOutcome("dropped");
        return;
      }
      email.attempts += 1;
      try {
        const { messageId } = await mailer.send(mail, tx);
        email.status = EmailStatus.SENT;
        email.messageId = messageId;
        email.sentAt = new Date();
        email.lastError = null;
        recordEmailOutcome("sent");
        log.info({ kind: email.kind, mailer: mailer.name, messageId, attempts: email.attempts }, "email sent");
      } catch (e) {
        const err = e instanceof MailError ? e : new MailError("retry", String((e as Error)?.message ?? e));
        email.lastError = err.message.slice(0, 1000);
        if (err.kind === "reject") {
          email.status = EmailStatus.FAILED;
          recordEmailOutcome("rejected");
          log.warn({ kind: email.kind, error: err.message }, "email rejected by the provider; not retried");
        } else if (err.kind === "retry" && email.attempts >= MAX_EMAIL_ATTEMPTS) {
          email.status = EmailStatus.FAILED;
          recordEmailOutcome("failed");
          log.error({ kind: email.kind, attempts: email.attempts, error: err.message }, "email failed after all retries");
        } else {
          // Configuration errors (bad token, unknown sender) wait at least a minute between tries.
          const base = err.kind === "config" ? Math.max(config.jobRetryBaseMs, 60_000) : config.jobRetryBaseMs;
          const delay = retryDelayMs(email.attempts, base);
          await enqueue(tx, Task.SEND_EMAIL, { emailId }, { jobKey: `email:${emailId}`, runAt: new Date(Date.now() + delay) });
          recordEmailOutcome(err.kind === "config" ? "config_retry" : "retry");
          const entry = { kind: email.kind, attempts: email.attempts, retryInMs: delay, error: err.message };
          if (err.kind === "config") log.error(entry, "EMAIL IS NOT BEING DELIVERED: check POSTMARK_SERVER_TOKEN / MAIL_FROM; will retry");
          else log.warn(entry, "email delivery failed; will retry");
        }
      }
    });
  };
}
