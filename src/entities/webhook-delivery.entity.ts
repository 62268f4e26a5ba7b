import { Entity, Enum, Index, ManyToOne, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand } from "./brand.entity";
import { Fan } from "./loyalty.entity";
import { Order } from "./order.entity";

export enum DeliveryStatus {
  PENDING = "PENDING",
  DELIVERED = "DELIVERED",
  FAILED = "FAILED",
  /** Not sent (any more): the brand removed the kind's webhook URL while it was pending. */
  CANCELLED = "CANCELLED",
}

/** Which of the brand's URLs a delivery goes to: couponWebhookUrl or orderWebhookUrl. */
export enum WebhookKind {
  COUPON = "COUPON",
  ORDER = "ORDER",
}

/**
 * One signed POST to a brand's system, retried until delivered (src/webhooks/delivery.ts): an
 * issued coupon (kind COUPON, with its fan) or an order event (kind ORDER, with its order).
 */
@Entity()
@Index({ properties: ["fan", "createdAt"] })
@Index({ properties: ["order", "createdAt"] })
export class WebhookDelivery extends BaseEntity<"status" | "attempts" | "deliveredAt" | "lastError" | "fan" | "order" | "event"> {
  @ManyToOne(() => Brand, { ref: true, index: true })
  brand: Ref<Brand>;

  @Enum({ items: () => WebhookKind, nativeEnumName: "webhook_kind", default: WebhookKind.COUPON })
  kind: WebhookKind;

  @ManyToOne(() => Fan, { ref: true, nullable: true })
  fan: Ref<Fan> | null = null;

  @ManyToOne(() => Order, { ref: true, nullable: true })
  order: Ref<Order> | null = null;

  /** The body's `type`, e.g. "coupon.issued", "order.paid". */
  @Property({ type: "string", length: 40, nullable: true })
  event: string | null = null;

  @Property({ type: "string", length: 2000 })
  url: string;

  /** The JSON body, frozen when queued (the same bytes on every retry). */
  @Property({ type: "text" })
  body: string;

  @Enum({ items: () => DeliveryStatus, nativeEnumName: "delivery_status", default: DeliveryStatus.PENDING })
  status: DeliveryStatus = DeliveryStatus.PENDING;

  @Property({ type: "integer", default: 0 })
  attempts = 0;

  @Property({ type: "string", length: 1000, nullable: true })
  lastError: string | null = null;

  @Property({ type: "datetime", nullable: true })
  deliveredAt: Date | null = null;

  constructor(brand: Ref<Brand>, kind: WebhookKind, url: string, body: string) {
    super();
    this.brand = brand;
    this.kind = kind;
    this.url = url;
    this.body = body;
  }
}

/** One try of a delivery: when, the HTTP status (null: no answer) and the error, if any. */
@Entity()
@Index({ properties: ["delivery", "createdAt"] })
export class DeliveryAttempt extends BaseEntity<"statusCode" | "error"> {
  @ManyToOne(() => WebhookDelivery, { ref: true })
  delivery: Ref<WebhookDelivery>;

  @Property({ type: "integer", nullable: true })
  statusCode: number | null = null;

  @Property({ type: "string", length: 1000, nullable: true })
  error: string | null = null;

  @Property({ type: "integer" })
  durationMs: number;

  constructor(delivery: Ref<WebhookDelivery>, durationMs: number) {
    super();
    this.delivery = delivery;
    this.durationMs = durationMs;
  }
}
