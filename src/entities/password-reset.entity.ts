import { Entity, Index, Property } from "@mikro-orm/core";
import { BaseEntity } from "./base";

/**
 * A requested password reset (requestPasswordReset). Keyed by the email as typed (lowercased),
 * never by the account: the request does the same work whether an account exists or not. Only
 * SHA-256 of the emailed token is kept; the email job holds the random part it is made from.
 */
@Entity()
@Index({ properties: ["email"] })
export class PasswordReset extends BaseEntity<"usedAt"> {
  /** Lowercased. */
  @Property({ type: "string", length: 320 })
  email: string;

  @Property({ type: "string", length: 64, unique: true, hidden: true })
  tokenHash: string;

  @Property({ type: "datetime" })
  expiresAt: Date;

  @Property({ type: "datetime", nullable: true })
  usedAt: Date | null = null;

  constructor(email: string, tokenHash: string, expiresAt: Date) {
    super();
    this.email = email;
    this.tokenHash = tokenHash;
    this.expiresAt = expiresAt;
  }
}
