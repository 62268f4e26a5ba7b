import { Check, Entity, Enum, Index, ManyToOne, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Order, PaymentAttempt } from "./order.entity";

export enum RefundStatus {
  PENDING = "PENDING",
  SUCCEEDED = "SUCCEEDED",
  FAILED = "FAILED",
}

/** BRAND: refundOrder; PROVIDER: reported by the provider without our asking; AUTOMATIC: a payment that could not be kept (late or second). */
export enum RefundSource {
  BRAND = "BRAND",
  PROVIDER = "PROVIDER",
  AUTOMATIC = "AUTOMATIC",
}

/**
 * Money paid back for one payment attempt of an order (src/services/refund). PENDING from the
 * moment it is asked for (it already counts against what remains refundable) until the provider
 * reports SUCCEEDED or FAILED on the signed payment webhook.
 */
@Entity()
@Index({ properties: ["order", "createdAt"] })
@Index({ properties: ["paymentAttempt"] })
@Check({ name: "refund_amount_check", expression: "amount > 0" })
export class Refund extends BaseEntity<"status" | "reason" | "externalId" | "updatedAt" | "attempts" | "lastError"> {
  @ManyToOne(() => Order, { ref: true })
  order: Ref<Order>;

  /** The payment that is paid back. */
  @ManyToOne(() => PaymentAttempt, { ref: true })
  paymentAttempt: Ref<PaymentAttempt>;

  @Property({ type: "integer" })
  amount: number;

  @Property({ type: "string", length: 3 })
  currency: string;

  @Enum({ items: () => RefundStatus, nativeEnumName: "refund_status", default: RefundStatus.PENDING })
  status: RefundStatus = RefundStatus.PENDING;

  @Enum({ items: () => RefundSource, nativeEnumName: "refund_source" })
  source: RefundSource;

  @Property({ type: "string", length: 500, nullable: true })
  reason: string | null = null;

  /** The provider's refund id, once it answered one (or reported the refund). */
  @Property({ type: "string", length: 100, nullable: true, unique: true })
  externalId: string | null = null;

  /** Calls made to the provider's refund API so far. */
  @Property({ type: "integer", default: 0 })
  attempts = 0;

  /** The provider's last refusal or why it could not be reached (never shown to clients). */
  @Property({ type: "string", length: 1000, nullable: true })
  lastError: string | null = null;

  @Property({ type: "datetime", defaultRaw: "now()", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(data: { order: Ref<Order>; attempt: Ref<PaymentAttempt>; amount: number; currency: string; source: RefundSource; reason?: string | null }) {
    super();
    this.order = data.order;
    this.paymentAttempt = data.attempt;
    this.amount = data.amount;
    this.currency = data.currency;
    this.source = data.source;
    this.reason = data.reason ?? null;
  }
}

/** Every refund.updated webhook event processed, by the provider's event id: the idempotency record. */
@Entity()
export class RefundWebhookEvent {
  @Property({ type: "string", length: 200, primary: true })
  id: string;

  /** What processing decided. */
  @Property({ type: "string", length: 500 })
  outcome: string;

  @Property({ type: "datetime", defaultRaw: "now()" })
  receivedAt: Date = new Date();

  constructor(id: string, outcome: string) {
    this.id = id;
    this.outcome = outcome;
  }
}
