import { Entity, Enum, Index, ManyToOne, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Fan } from "./loyalty.entity";
import { Order } from "./order.entity";

export enum EmailKind {
  /** To the buyer: confirmation with the invoice PDF and all tickets. */
  ORDER_CONFIRMATION = "ORDER_CONFIRMATION",
  /** To another ticket holder: their own tickets. */
  TICKETS = "TICKETS",
  /** To the buyer when the order is fulfilled. */
  ORDER_READY = "ORDER_READY",
  /** To a fan: the link that verifies their email. */
  FAN_VERIFICATION = "FAN_VERIFICATION",
  /** To a fan: their coupon code. */
  COUPON = "COUPON",
  /** To an invited email: the link to join a brand (inviteBrandMember). */
  BRAND_INVITATION = "BRAND_INVITATION",
  /** To an account's email: the single-use link that sets a new password (requestPasswordReset). */
  PASSWORD_RESET = "PASSWORD_RESET",
  /** To the buyer: a refund of their order succeeded (src/services/refund). */
  REFUND = "REFUND",
  /** To the buyer: a payment that could not be kept (late, or a second one) is being refunded. */
  PAYMENT_REFUNDED = "PAYMENT_REFUNDED",
}

export enum EmailStatus {
  QUEUED = "QUEUED",
  SENT = "SENT",
  FAILED = "FAILED",
}

/** One email to one recipient, and what became of it. Sent by the `send_email` job. */
@Entity({ tableName: "email" })
@Index({ properties: ["order", "createdAt"] })
export class EmailMessage extends BaseEntity<"status" | "attempts" | "messageId" | "lastError" | "sentAt" | "updatedAt" | "data" | "order" | "fan"> {
  @ManyToOne(() => Order, { ref: true, nullable: true })
  order: Ref<Order> | null = null;

  @ManyToOne(() => Fan, { ref: true, nullable: true, index: true })
  fan: Ref<Fan> | null = null;

  @Enum({ items: () => EmailKind, nativeEnumName: "email_kind" })
  kind: EmailKind;

  @Property({ type: "string", length: 320 })
  recipient: string;

  @Enum({ items: () => EmailStatus, nativeEnumName: "email_status", default: EmailStatus.QUEUED })
  status: EmailStatus = EmailStatus.QUEUED;

  /** Delivery attempts made so far. */
  @Property({ type: "integer", default: 0 })
  attempts = 0;

  /** Postmark's MessageID (or the outbox id). */
  @Property({ type: "string", length: 100, nullable: true })
  messageId: string | null = null;

  @Property({ type: "string", length: 1000, nullable: true })
  lastError: string | null = null;

  @Property({ type: "datetime", nullable: true })
  sentAt: Date | null = null;

  /** What the message needs besides the order (e.g. which holder's tickets). */
  @Property({ type: "json", default: "{}" })
  data: Record<string, unknown> = {};

  @Property({ type: "datetime", defaultRaw: "now()", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(kind: EmailKind, recipient: string) {
    super();
    this.kind = kind;
    this.recipient = recipient;
  }
}

/** Development mail: what would have been sent, kept when no Postmark token is configured. */
@Entity({ tableName: "mail_outbox" })
export class OutboxMessage extends BaseEntity {
  @ManyToOne(() => EmailMessage, { ref: true, index: true })
  email: Ref<EmailMessage>;

  @Property({ type: "string", length: 400 })
  from: string;

  @Property({ type: "string", length: 320 })
  to: string;

  @Property({ type: "string", length: 500 })
  subject: string;

  @Property({ type: "text" })
  textBody: string;

  @Property({ type: "text" })
  htmlBody: string;

  /** [{ name, contentType, content (base64) }] */
  @Property({ type: "json", default: "[]" })
  attachments: { name: string; contentType: string; content: string }[];

  constructor(data: Omit<OutboxMessage, "id" | "createdAt">) {
    super();
    this.email = data.email;
    this.from = data.from;
    this.to = data.to;
    this.subject = data.subject;
    this.textBody = data.textBody;
    this.htmlBody = data.htmlBody;
    this.attachments = data.attachments;
  }
}
