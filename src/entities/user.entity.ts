import { Entity, Index, Property } from "@mikro-orm/core";
import { BaseEntity } from "./base";

/**
 * An account, or an anonymous session (`anonymous`, no email) whose orders are kept when it
 * signs up: sign-up turns the same row into an account.
 */
@Entity({ tableName: "users" })
@Index({ name: "users_email_unique", expression: 'create unique index "users_email_unique" on "users" (lower("email"))' })
export class User extends BaseEntity<"isAdmin" | "anonymous" | "name" | "email" | "passwordHash" | "sessionVersion"> {
  @Property({ type: "string", length: 320, nullable: true })
  email: string | null = null;

  @Property({ type: "string", length: 200, nullable: true })
  name: string | null = null;

  @Property({ type: "string", length: 255, nullable: true, hidden: true, lazy: true })
  passwordHash: string | null = null;

  @Property({ type: "boolean", default: false })
  isAdmin = false;

  @Property({ type: "boolean", default: false })
  anonymous = false;

  /**
   * Tokens carry the version they were issued under (claim `sv`); `logOutEverywhere` increments it,
   * so every token issued before stops working.
   */
  @Property({ type: "integer", default: 0 })
  sessionVersion = 0;
}
