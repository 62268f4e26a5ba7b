import { OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { randomUUID } from "node:crypto";

/** Every row: a UUID primary key made in the app (known before flush) and its creation time. */
export abstract class BaseEntity<Optional extends string = never> {
  [OptionalProps]?: "id" | "createdAt" | Optional;

  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Property({ type: "datetime", defaultRaw: "now()" })
  createdAt: Date = new Date();
}
