import { Collection, Entity, Enum, Index, ManyToOne, OneToMany, Property, Unique, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { BrandRole } from "./enums";
import { User } from "./user.entity";

@Entity()
export class Brand extends BaseEntity<"couponWebhookUrl" | "orderWebhookUrl" | "products" | "members" | "apiKeys" | "invoicePrefix"> {
  @Property({ type: "string", length: 200 })
  name: string;

  /** ISO 4217 code; every product and order of the brand is in this currency. */
  @Property({ type: "string", length: 3 })
  currency: string;

  @Property({ type: "string", length: 2000, nullable: true })
  couponWebhookUrl: string | null = null;

  /** Where order events (order.paid, ...) are POSTed, signed like coupon deliveries. */
  @Property({ type: "string", length: 2000, nullable: true })
  orderWebhookUrl: string | null = null;

  /** Signs outgoing coupon and order webhooks. Readable by the brand's OWNER only. */
  @Property({ type: "string", length: 100, hidden: true })
  webhookSecret: string;

  /** Invoice numbers are `{invoicePrefix}-{000001}` (services/invoice/numbers.ts); 1..16 of [A-Z0-9-]. */
  @Property({ type: "string", length: 16, default: "INV" })
  invoicePrefix = "INV";

  @OneToMany(() => Product, (p) => p.brand, { orderBy: { createdAt: "asc", id: "asc" } })
  products = new Collection<Product>(this);

  @OneToMany(() => BrandMember, (m) => m.brand, { orderBy: { createdAt: "asc", id: "asc" } })
  members = new Collection<BrandMember>(this);

  @OneToMany(() => ApiKey, (k) => k.brand, { orderBy: { createdAt: "asc", id: "asc" } })
  apiKeys = new Collection<ApiKey>(this);

  constructor(name: string, currency: string, webhookSecret: string) {
    super();
    this.name = name;
    this.currency = currency;
    this.webhookSecret = webhookSecret;
  }
}

@Entity()
@Unique({ properties: ["brand", "user"] })
export class BrandMember extends BaseEntity {
  @ManyToOne(() => Brand, { ref: true, index: true })
  brand: Ref<Brand>;

  @ManyToOne(() => User, { ref: true, index: true })
  user: Ref<User>;

  @Enum({ items: () => BrandRole, nativeEnumName: "brand_role" })
  role: BrandRole;

  constructor(brand: Ref<Brand>, user: Ref<User>, role: BrandRole) {
    super();
    this.brand = brand;
    this.user = user;
    this.role = role;
  }
}

/** A brand's server-to-server key. Only a SHA-256 of the secret is kept; the secret is shown once. */
@Entity()
export class ApiKey extends BaseEntity<"revokedAt"> {
  @ManyToOne(() => Brand, { ref: true, index: true })
  brand: Ref<Brand>;

  @ManyToOne(() => User, { ref: true, index: true })
  createdBy: Ref<User>;

  @Property({ type: "string", length: 64, hidden: true })
  secretHash: string;

  @Property({ type: "datetime", nullable: true })
  revokedAt: Date | null = null;

  constructor(brand: Ref<Brand>, createdBy: Ref<User>, secretHash: string) {
    super();
    this.brand = brand;
    this.createdBy = createdBy;
    this.secretHash = secretHash;
  }
}

@Entity()
@Index({ properties: ["brand", "createdAt"] })
export class Product extends BaseEntity<"taxRate"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  @Property({ type: "string", length: 200 })
  name: string;

  /** Minor units of `currency`. */
  @Property({ type: "integer" })
  unitPrice: number;

  @Property({ type: "string", length: 3 })
  currency: string;

  /** Basis points (1900 = 19 %); the price includes it. Copied onto each order line at createOrder. */
  @Property({ type: "integer", default: 0 })
  taxRate = 0;

  constructor(brand: Ref<Brand>, name: string, unitPrice: number, currency: string) {
    super();
    this.brand = brand;
    this.name = name;
    this.unitPrice = unitPrice;
    this.currency = currency;
  }
}
