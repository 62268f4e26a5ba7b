import { Entity, Enum, Index, ManyToOne, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand } from "./brand.entity";

export enum DiscountType {
  PERCENT = "PERCENT",
  FIXED_AMOUNT = "FIXED_AMOUNT",
}

export enum FanStatus {
  PENDING_VERIFICATION = "PENDING_VERIFICATION",
  ACTIVE = "ACTIVE",
}

/** A brand's discount: the rule behind its coupons. Deleted discounts keep their rows (history). */
@Entity()
@Index({ properties: ["brand", "createdAt", "id"] })
export class Discount extends BaseEntity<
  "description" | "freeShipping" | "expiresAt" | "usageLimit" | "verifyEmail" | "fixedCode" | "updatedAt" | "deletedAt"
> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @Property({ type: "string", length: 200 })
  name: string;

  @Property({ type: "string", length: 2000, nullable: true })
  description: string | null = null;

  @Enum({ items: () => DiscountType, nativeEnumName: "discount_type" })
  type: DiscountType;

  /** PERCENT: 1..100; FIXED_AMOUNT: minor units of the brand's currency. */
  @Property({ type: "integer" })
  amount: number;

  @Property({ type: "boolean", default: false })
  freeShipping = false;

  @Property({ type: "datetime", nullable: true })
  expiresAt: Date | null = null;

  /** Uses per coupon. */
  @Property({ type: "integer", default: 1 })
  usageLimit = 1;

  @Property({ type: "boolean", default: false })
  verifyEmail = false;

  /** The one code shared by every fan (upper case), or null for a unique code per fan. */
  @Property({ type: "string", length: 32, nullable: true })
  fixedCode: string | null = null;

  @Property({ type: "datetime", defaultRaw: "now()", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Property({ type: "datetime", nullable: true })
  deletedAt: Date | null = null;

  constructor(brand: Ref<Brand>, name: string, type: DiscountType, amount: number) {
    super();
    this.brand = brand;
    this.name = name;
    this.type = type;
    this.amount = amount;
  }
}

/**
 * A redeemable code. A fixed-code discount has one coupon shared by all its fans; otherwise each
 * fan gets their own. `uses` counts reservations by orders (released when an order is cancelled or
 * expires) and never exceeds the discount's usageLimit (an atomic conditional update).
 */
@Entity()
@Index({
  name: "coupon_brand_code_unique",
  expression: 'create unique index "coupon_brand_code_unique" on "coupon" ("brand_id", "code")',
})
export class Coupon extends BaseEntity<"uses"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @ManyToOne(() => Discount, { ref: true, index: true })
  discount: Ref<Discount>;

  /** Upper case; compared case-insensitively by upper-casing the input. */
  @Property({ type: "string", length: 32 })
  code: string;

  @Property({ type: "integer", default: 0 })
  uses = 0;

  constructor(brand: Ref<Brand>, discount: Ref<Discount>, code: string) {
    super();
    this.brand = brand;
    this.discount = discount;
    this.code = code;
  }
}

/** Someone who signed up for a brand's discount. One per discount and email (case-insensitive). */
@Entity()
@Index({ properties: ["brand", "createdAt", "id"] })
@Index({
  name: "fan_discount_email_unique",
  expression: 'create unique index "fan_discount_email_unique" on "fan" ("discount_id", lower("email"))',
})
export class Fan extends BaseEntity<"facebookHandle" | "status" | "verifiedAt" | "coupon" | "tokenHash" | "tokenExpiresAt" | "tokenUsedAt"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @ManyToOne(() => Discount, { ref: true })
  discount: Ref<Discount>;

  @Property({ type: "string", length: 200 })
  name: string;

  @Property({ type: "string", length: 320 })
  email: string;

  @Property({ type: "string", length: 100, nullable: true })
  facebookHandle: string | null = null;

  @Enum({ items: () => FanStatus, nativeEnumName: "fan_status", default: FanStatus.ACTIVE })
  status: FanStatus = FanStatus.ACTIVE;

  @Property({ type: "datetime", nullable: true })
  verifiedAt: Date | null = null;

  @ManyToOne(() => Coupon, { ref: true, nullable: true, index: true })
  coupon: Ref<Coupon> | null = null;

  /** SHA-256 of the single-use verification token (the token itself is never stored). */
  @Property({ type: "string", length: 64, nullable: true, unique: true, hidden: true })
  tokenHash: string | null = null;

  @Property({ type: "datetime", nullable: true })
  tokenExpiresAt: Date | null = null;

  @Property({ type: "datetime", nullable: true })
  tokenUsedAt: Date | null = null;

  constructor(brand: Ref<Brand>, discount: Ref<Discount>, name: string, email: string) {
    super();
    this.brand = brand;
    this.discount = discount;
    this.name = name;
    this.email = email;
  }
}
