import { Check, Entity, Enum, Index, ManyToOne, PrimaryKeyProp, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand, Product } from "./brand.entity";
import { Order } from "./order.entity";

/**
 * A brand's capacity: `size` seats shared by the products it limits. `held` counts seats of
 * PENDING orders, `sold` those of PAID and FULFILLED ones. The counters change only through one
 * conditional UPDATE per quota row (src/services/capacity/seats.ts); the check constraint is the
 * last line of defence, so that no bug can ever oversell.
 */
@Entity()
@Index({ properties: ["brand", "createdAt", "id"] })
@Check({ name: "quota_counts_check", expression: "sold >= 0 and held >= 0 and sold + held <= size" })
export class Quota extends BaseEntity<"sold" | "held" | "updatedAt"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @Property({ type: "string", length: 200 })
  name: string;

  @Property({ type: "integer" })
  size: number;

  @Property({ type: "integer", default: 0 })
  sold = 0;

  @Property({ type: "integer", default: 0 })
  held = 0;

  @Property({ type: "datetime", defaultRaw: "now()" })
  updatedAt: Date = new Date();

  constructor(brand: Ref<Brand>, name: string, size: number) {
    super();
    this.brand = brand;
    this.name = name;
    this.size = size;
  }
}

/** Which products a quota limits (a product may sit in several quotas). */
@Entity({ tableName: "quota_product" })
export class QuotaProduct {
  [PrimaryKeyProp]?: ["quota", "product"];

  @ManyToOne(() => Quota, { primary: true, ref: true })
  quota: Ref<Quota>;

  @ManyToOne(() => Product, { primary: true, ref: true, index: true })
  product: Ref<Product>;

  constructor(quota: Ref<Quota>, product: Ref<Product>) {
    this.quota = quota;
    this.product = product;
  }
}

export enum QuotaHoldState {
  /** Seats of a PENDING order (counted in `held`). */
  HELD = "HELD",
  /** Seats of a PAID or FULFILLED order (counted in `sold`). */
  SOLD = "SOLD",
  /** Given back (CANCELLED, EXPIRED, later REFUNDED): counted nowhere. */
  RELEASED = "RELEASED",
}

/**
 * The seats one order took in one quota, recorded when they were taken. Why a table rather than
 * recomputing from the order's lines and quota_product when the order changes status: a quota's
 * products may change in between (updateQuota), and recomputing would then release seats from a
 * quota that never held them, or leave held seats behind. With the record, release and convert
 * touch exactly what was taken, and the state change (HELD → SOLD | RELEASED, one conditional
 * UPDATE) makes each of them happen once, however often a transition is attempted.
 */
@Entity({ tableName: "order_quota_hold" })
@Check({ name: "order_quota_hold_seats_check", expression: "seats > 0" })
export class OrderQuotaHold {
  [PrimaryKeyProp]?: ["order", "quota"];

  @ManyToOne(() => Order, { primary: true, ref: true })
  order: Ref<Order>;

  @ManyToOne(() => Quota, { primary: true, ref: true, index: true })
  quota: Ref<Quota>;

  @Property({ type: "integer" })
  seats: number;

  @Enum({ items: () => QuotaHoldState, nativeEnumName: "quota_hold_state" })
  state: QuotaHoldState;

  constructor(order: Ref<Order>, quota: Ref<Quota>, seats: number, state: QuotaHoldState) {
    this.order = order;
    this.quota = quota;
    this.seats = seats;
    this.state = state;
  }
}
