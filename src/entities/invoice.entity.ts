import { Entity, Enum, Index, ManyToOne, PrimaryKeyProp, Property, Unique, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand } from "./brand.entity";
import { InvoiceKind } from "./enums";
import { Order } from "./order.entity";

/** One rate's part of an invoice or credit note (minor units). */
export interface TaxLineData {
  rate: number;
  net: number;
  tax: number;
}

/**
 * An invoice (when an order became PAID) or a credit note (for a refund), numbered from its brand's
 * gapless sequence (InvoiceSequence; services/invoice/invoices.ts). Never changed once written.
 * Amounts are positive for both kinds; `kind` says which way the money went.
 */
@Entity()
@Unique({ name: "invoice_brand_seq_unique", properties: ["brand", "seq"] })
@Index({ properties: ["order", "seq"] })
@Index({
  name: "invoice_one_per_order",
  expression: `create unique index "invoice_one_per_order" on "invoice" ("order_id") where "kind" = 'INVOICE'`,
})
export class Invoice extends BaseEntity<"refundId" | "refersTo" | "seq" | "number"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @ManyToOne(() => Order, { ref: true })
  order: Ref<Order>;

  @Enum({ items: () => InvoiceKind, nativeEnumName: "invoice_kind" })
  kind: InvoiceKind;

  /**
   * The brand's sequence number (1, 2, 3 … without gaps) and `{prefix}-{seq, 6 digits or more}`
   * with the brand's prefix then: set by the trigger `invoice_take_number` when the inserting
   * transaction commits (services/invoice/numbers.ts), so null only inside that transaction.
   */
  @Property({ type: "integer", nullable: true })
  seq: number | null = null;

  @Property({ type: "string", length: 40, nullable: true })
  number: string | null = null;

  @Property({ type: "datetime" })
  issuedAt: Date;

  @Property({ type: "integer" })
  total: number;

  @Property({ type: "integer" })
  taxTotal: number;

  @Property({ type: "string", length: 3 })
  currency: string;

  @Property({ type: "json" })
  taxLines: TaxLineData[];

  /** A credit note's refund: at most one credit note per refund. */
  @Property({ type: "uuid", nullable: true, unique: true })
  refundId: string | null = null;

  /** A credit note's invoice number. */
  @Property({ type: "string", length: 40, nullable: true })
  refersTo: string | null = null;

  constructor(data: {
    brand: Ref<Brand>;
    order: Ref<Order>;
    kind: InvoiceKind;
    issuedAt: Date;
    total: number;
    taxTotal: number;
    currency: string;
    taxLines: TaxLineData[];
  }) {
    super();
    this.brand = data.brand;
    this.order = data.order;
    this.kind = data.kind;
    this.issuedAt = data.issuedAt;
    this.total = data.total;
    this.taxTotal = data.taxTotal;
    this.currency = data.currency;
    this.taxLines = data.taxLines;
  }
}

/**
 * A brand's invoice counter: one row per brand, `last` the last number issued, taken at commit by
 * the trigger `invoice_take_number` (services/invoice/numbers.ts). Not a PostgreSQL SEQUENCE: that
 * would leave a gap for every rollback.
 */
@Entity()
export class InvoiceSequence {
  [PrimaryKeyProp]?: "brand";

  @ManyToOne(() => Brand, { primary: true, ref: true })
  brand: Ref<Brand>;

  @Property({ type: "integer", default: 0 })
  last = 0;

  constructor(brand: Ref<Brand>) {
    this.brand = brand;
  }
}
