import { OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { randomUUID } from "node:crypto";

/**
 * Every row: a UUID primary key made in the app (known before flush) and its creation time, kept
 * in milliseconds (timestamptz(3)) like a JS Date: keyset cursors carry (createdAt, id) as a Date,
 * so a row inserted by SQL with now()'s microseconds could otherwise be skipped between pages.
 */
export abstract class BaseEntity<Optional extends string = never> {
  [OptionalProps]?: "id" | "createdAt" | Optional;

  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Property({ type: "datetime", length: 3, defaultRaw: "now()" })
  createdAt: Date = new Date();
}
