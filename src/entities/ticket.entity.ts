import { Entity, Index, ManyToOne, Property, Unique, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand, Product } from "./brand.entity";
import { Order } from "./order.entity";

/**
 * One admitted person of a paid order, as the tickets PDF prints them (services/confirmation/tickets.ts):
 * written when the order becomes PAID, in that transaction (services/checkin/issue.ts). Its status is
 * derived, never stored: VOID while its order is not PAID or FULFILLED, CHECKED_IN once
 * `checkedInAt` is set, else VALID. `checkedInAt` is set once, by one conditional UPDATE (checkIn).
 */
@Entity()
@Index({ properties: ["brand", "checkedInAt"] })
@Unique({ properties: ["order", "index"] })
export class Ticket extends BaseEntity<"checkedInAt"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @ManyToOne(() => Order, { ref: true })
  order: Ref<Order>;

  @ManyToOne(() => Product, { ref: true })
  product: Ref<Product>;

  /** 1-based position in the order (the n of the printed code). */
  @Property({ type: "integer" })
  index: number;

  @Property({ type: "string", length: 200 })
  holderName: string;

  @Property({ type: "string", length: 320 })
  holderEmail: string;

  /** What the QR encodes: `<order number>-<index>-<HMAC>` (ticketCode). */
  @Property({ type: "string", length: 100, unique: true })
  code: string;

  @Property({ type: "datetime", nullable: true })
  checkedInAt: Date | null = null;

  constructor(data: { brand: Ref<Brand>; order: Ref<Order>; product: Ref<Product>; index: number; holderName: string; holderEmail: string; code: string }) {
    super();
    this.brand = data.brand;
    this.order = data.order;
    this.product = data.product;
    this.index = data.index;
    this.holderName = data.holderName;
    this.holderEmail = data.holderEmail;
    this.code = data.code;
  }
}
