import { Check, Collection, Entity, Enum, Index, ManyToOne, OneToMany, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand } from "./brand.entity";
import { OrderStatus, PaymentAttemptStatus } from "./enums";
import { Coupon } from "./loyalty.entity";
import { User } from "./user.entity";

export interface OrderLineData {
  productId: string;
  productName: string;
  unitPrice: number;
  quantity: number;
  /** unitPrice × quantity, before the discount. */
  total: number;
  /** The product's rate when the order was placed (basis points). */
  taxRate: number;
  /** The tax in what remains of the line after its share of the discount (services/order/tax.ts). */
  tax: number;
  /** This line's share of the order's discount; absent on lines placed before tax (lineDiscounts spreads it again). */
  discount?: number;
}

export interface PersonData {
  name: string;
  email: string;
}

/** What was bought, frozen at the moment of payment; never written again. */
export interface PaidSnapshot {
  takenAt: string;
  lines: OrderLineData[];
  subtotal: number;
  discountTotal: number;
  total: number;
  currency: string;
  couponCode: string | null;
}

@Entity({ tableName: "orders" })
@Index({ name: "orders_brand_page", properties: ["brand", "createdAt", "id"] })
@Index({ name: "orders_customer_page", properties: ["customer", "createdAt", "id"] })
// searchOrders: trigrams of the search text (Migration20261205210000; the query's expression is SEARCH_TEXT in order.repository.ts).
@Index({
  name: "orders_search",
  expression: `create index "orders_search" on "orders" using gin (order_search_text("number", "buyer_name", "buyer_email", "attendees") gin_trgm_ops)`,
})
@Index({
  name: "orders_pending_expiry",
  expression: `create index "orders_pending_expiry" on "orders" ("expires_at") where "status" = 'PENDING'`,
})
@Check({ name: "orders_refunded_total_check", expression: "refunded_total >= 0 and refunded_total <= total" })
export class Order extends BaseEntity<
  | "refundedTotal"
  | "refundedAt"
  | "status"
  | "discountTotal"
  | "taxTotal"
  | "couponCode"
  | "coupon"
  | "paidAt"
  | "fulfilledAt"
  | "snapshot"
  | "seq"
  | "customer"
  | "attendees"
  | "events"
  | "paymentAttempts"
> {
  /** Human-readable and unique, e.g. OL-7K3Q9D. */
  @Property({ type: "string", length: 20, unique: true })
  number: string;

  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  /** The account or anonymous session that placed it; null when a brand key placed it. */
  @ManyToOne(() => User, { ref: true, nullable: true })
  customer: Ref<User> | null = null;

  @Enum({ items: () => OrderStatus, nativeEnumName: "order_status", default: OrderStatus.PENDING })
  status: OrderStatus = OrderStatus.PENDING;

  /** Bumped on every status change so subscribers can detect a gap. */
  @Property({ type: "integer", default: 0 })
  seq = 0;

  @Property({ type: "string", length: 200 })
  buyerName: string;

  @Property({ type: "string", length: 320 })
  buyerEmail: string;

  @Property({ type: "json", default: "[]" })
  attendees: PersonData[] = [];

  /** As priced when the order was placed; the totals below are computed from these. */
  @Property({ type: "json" })
  lines: OrderLineData[];

  @Property({ type: "integer" })
  subtotal: number;

  @Property({ type: "integer", default: 0 })
  discountTotal = 0;

  @Property({ type: "integer" })
  total: number;

  /** Σ of the lines' tax (services/order/tax.ts). */
  @Property({ type: "integer", default: 0 })
  taxTotal = 0;

  @Property({ type: "string", length: 3 })
  currency: string;

  @Property({ type: "string", length: 64, nullable: true })
  couponCode: string | null = null;

  /** The coupon whose use this order reserved (released if it is cancelled or expires). */
  @ManyToOne(() => Coupon, { ref: true, nullable: true, index: true })
  coupon: Ref<Coupon> | null = null;

  @Property({ type: "datetime" })
  expiresAt: Date;

  @Property({ type: "datetime", nullable: true })
  paidAt: Date | null = null;

  @Property({ type: "datetime", nullable: true })
  fulfilledAt: Date | null = null;

  @Property({ type: "json", nullable: true })
  snapshot: PaidSnapshot | null = null;

  /** The sum of its SUCCEEDED refunds of the payment that paid it (src/services/refund); never above total. */
  @Property({ type: "integer", default: 0 })
  refundedTotal = 0;

  /** When the last refund of it succeeded. */
  @Property({ type: "datetime", nullable: true })
  refundedAt: Date | null = null;

  @OneToMany(() => OrderEvent, (e) => e.order, { orderBy: { at: "asc", id: "asc" } })
  events = new Collection<OrderEvent>(this);

  @OneToMany(() => PaymentAttempt, (a) => a.order, { orderBy: { createdAt: "asc", id: "asc" } })
  paymentAttempts = new Collection<PaymentAttempt>(this);

  constructor(data: {
    number: string;
    brand: Ref<Brand>;
    buyer: PersonData;
    lines: OrderLineData[];
    subtotal: number;
    total: number;
    currency: string;
    expiresAt: Date;
  }) {
    super();
    this.number = data.number;
    this.brand = data.brand;
    this.buyerName = data.buyer.name;
    this.buyerEmail = data.buyer.email;
    this.lines = data.lines;
    this.subtotal = data.subtotal;
    this.total = data.total;
    this.currency = data.currency;
    this.expiresAt = data.expiresAt;
  }
}

/** One status transition of an order: who moved it from what to what, and when. */
@Entity()
@Index({ properties: ["order", "at"] })
export class OrderEvent extends BaseEntity {
  @ManyToOne(() => Order, { ref: true })
  order: Ref<Order>;

  @Enum({ items: () => OrderStatus, nativeEnumName: "order_status", nullable: true })
  from: OrderStatus | null;

  @Enum({ items: () => OrderStatus, nativeEnumName: "order_status" })
  to: OrderStatus;

  @Property({ type: "datetime" })
  at: Date;

  /** "user:<id>", "anonymous:<id>", "api-key:<id>", "payment-provider" or "system". */
  @Property({ type: "string", length: 100, nullable: true })
  actor: string | null;

  constructor(order: Ref<Order>, from: OrderStatus | null, to: OrderStatus, at: Date, actor: string | null) {
    super();
    this.order = order;
    this.from = from;
    this.to = to;
    this.at = at;
    this.actor = actor;
  }
}

@Entity()
@Index({ properties: ["order", "createdAt"] })
@Index({
  name: "payment_attempt_one_paid_per_order",
  expression: `create unique index "payment_attempt_one_paid_per_order" on "payment_attempt" ("order_id") where "status" = 'PAID' and not "flagged"`,
})
export class PaymentAttempt extends BaseEntity<"status" | "updatedAt" | "flagged" | "flagReason"> {
  @ManyToOne(() => Order, { ref: true })
  order: Ref<Order>;

  /** The provider's checkout session id. */
  @Property({ type: "string", length: 100, unique: true })
  externalId: string;

  @Enum({ items: () => PaymentAttemptStatus, nativeEnumName: "payment_attempt_status", default: PaymentAttemptStatus.CREATED })
  status: PaymentAttemptStatus = PaymentAttemptStatus.CREATED;

  @Property({ type: "integer" })
  amount: number;

  @Property({ type: "string", length: 3 })
  currency: string;

  /** Set when the provider reported something we must not act on (wrong amount, order not payable). */
  @Property({ type: "boolean", default: false })
  flagged = false;

  @Property({ type: "string", length: 500, nullable: true })
  flagReason: string | null = null;

  @Property({ type: "datetime", defaultRaw: "now()", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(order: Ref<Order>, externalId: string, amount: number, currency: string) {
    super();
    this.order = order;
    this.externalId = externalId;
    this.amount = amount;
    this.currency = currency;
  }
}

/** Every payment webhook event processed, by the provider's event id: the idempotency record. */
@Entity()
export class PaymentWebhookEvent {
  @Property({ type: "string", length: 200, primary: true })
  id: string;

  @Property({ type: "string", length: 100 })
  attemptExternalId: string;

  @Enum({ items: () => PaymentAttemptStatus, nativeEnumName: "payment_attempt_status" })
  status: PaymentAttemptStatus;

  /** What processing decided: "applied", "ignored: ...", "flagged: ...". */
  @Property({ type: "string", length: 500 })
  outcome: string;

  @Property({ type: "datetime", defaultRaw: "now()" })
  receivedAt: Date = new Date();

  constructor(id: string, attemptExternalId: string, status: PaymentAttemptStatus, outcome: string) {
    this.id = id;
    this.attemptExternalId = attemptExternalId;
    this.status = status;
    this.outcome = outcome;
  }
}
