import type { EntityManager } from "@mikro-orm/postgresql";

/** A message ready to send: rendered subject and bodies, attachments as bytes. */
export interface OutgoingMail {
  to: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  attachments: { name: string; contentType: string; content: Buffer }[];
  /** Our email id, sent as metadata so a delivery can be traced back. */
  emailId: string;
  tag: string;
}

export interface Mailer {
  readonly name: "postmark" | "outbox";
  /**
   * Sends or throws a MailError. Returns the provider's message id. `tx` is the transaction that
   * holds the email row (the outbox writes in it; Postmark ignores it).
   */
  send(mail: OutgoingMail, tx: EntityManager): Promise<{ messageId: string }>;
}

/**
 * How a failed send is handled:
 * - retry: try again later with backoff (429, 5xx, timeouts, network errors);
 * - reject: this recipient can never receive it, fail at once (422 with ErrorCode 300 / 406);
 * - config: our setup is wrong (401 / ErrorCode 10, other 4xx); keep the email queued, retry
 *   slowly and log loudly, so mail flows again once the setting is fixed.
 */
export type FailureKind = "retry" | "reject" | "config";

export class MailError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly statusCode?: number,
    readonly errorCode?: number,
  ) {
    super(message);
    this.name = "MailError";
  }
}
