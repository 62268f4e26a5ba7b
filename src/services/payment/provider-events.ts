import type { EntityManager } from "@mikro-orm/postgresql";
import { logger } from "../../logger";

export type WebhookOutcome =
  | { duplicate: true }
  | { duplicate: false; outcome: string }
  /** Not recorded: the provider retries, and the attempt may simply not be committed yet. */
  | { unknownAttempt: true };

/**
 * Thrown by `apply` to roll back the event row: a report for an attempt we do not know (yet). A
 * provider can report before attemptToPayForOrder has committed; the event id is not used up, so
 * the provider's retry is processed once the attempt exists.
 */
export class UnknownAttempt extends Error {}

/**
 * One provider event (payment_attempt.updated, refund.updated), applied exactly once per event id,
 * in one transaction: `claim` inserts the event row first (primary key = the event id; no row
 * returned for a duplicate), so concurrent deliveries of one event wait on it and then see a
 * duplicate; `apply` decides and `record` stores what it decided on that row.
 */
export async function oncePerEvent(
  em: EntityManager,
  claim: (tx: EntityManager) => Promise<unknown[]>,
  apply: (tx: EntityManager) => Promise<string>,
  record: (tx: EntityManager, outcome: string) => Promise<unknown>,
  log: { message: string; fields: Record<string, unknown> },
): Promise<WebhookOutcome> {
  const work = em.fork().transactional(async (tx) => {
    if ((await claim(tx)).length === 0) return { duplicate: true } as const;
    const outcome = await apply(tx);
    await record(tx, outcome);
    logger().info({ ...log.fields, outcome }, log.message);
    return { duplicate: false, outcome } as const;
  });
  return work.catch((e) => {
    if (e instanceof UnknownAttempt) return { unknownAttempt: true } as const;
    throw e;
  });
}
