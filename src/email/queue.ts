import { ref } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { EmailMessage, type EmailKind, type Fan, type Order } from "../entities";
import { Task, enqueue } from "../jobs/queue";

/** graphile-worker retries (crash of a worker mid-job); our own retry policy lives in the send task. */
const JOB_MAX_ATTEMPTS = 25;

/** Records an email about an order or a fan and enqueues its delivery, both in the caller's transaction. */
export async function queueEmail(
  tx: EntityManager,
  about: { order?: Order; fan?: Fan },
  kind: EmailKind,
  recipient: string,
  data: Record<string, unknown> = {},
): Promise<EmailMessage> {
  const email = new EmailMessage(kind, recipient);
  if (about.order) email.order = ref(about.order);
  if (about.fan) email.fan = ref(about.fan);
  email.data = data;
  tx.persist(email); // inserted at commit, together with the job row below
  await enqueue(tx, Task.SEND_EMAIL, { emailId: email.id }, { jobKey: `email:${email.id}`, maxAttempts: JOB_MAX_ATTEMPTS });
  return email;
}
