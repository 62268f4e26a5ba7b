import { Entity, Enum, Index, ManyToOne, Property, type Ref } from "@mikro-orm/core";
import { BaseEntity } from "./base";
import { Brand } from "./brand.entity";
import { BrandRole } from "./enums";
import { User } from "./user.entity";

/**
 * An invitation to join a brand (inviteBrandMember), accepted once by the signed-in account with
 * this email (acceptBrandInvitation). Only SHA-256 of the emailed token is kept; the token is
 * HMAC(AUTH_SECRET, random part) and only the email job holds the random part.
 */
@Entity()
@Index({ properties: ["brand", "email"] })
export class BrandInvitation extends BaseEntity<"acceptedAt"> {
  @ManyToOne(() => Brand, { ref: true })
  brand: Ref<Brand>;

  /** Lowercased. */
  @Property({ type: "string", length: 320 })
  email: string;

  @Enum({ items: () => BrandRole, nativeEnumName: "brand_role" })
  role: BrandRole;

  @Property({ type: "string", length: 64, unique: true, hidden: true })
  tokenHash: string;

  @ManyToOne(() => User, { ref: true, index: true })
  invitedBy: Ref<User>;

  @Property({ type: "datetime" })
  expiresAt: Date;

  @Property({ type: "datetime", nullable: true })
  acceptedAt: Date | null = null;

  constructor(data: { brand: Ref<Brand>; email: string; role: BrandRole; tokenHash: string; invitedBy: Ref<User>; expiresAt: Date }) {
    super();
    this.brand = data.brand;
    this.email = data.email;
    this.role = data.role;
    this.tokenHash = data.tokenHash;
    this.invitedBy = data.invitedBy;
    this.expiresAt = data.expiresAt;
  }
}
