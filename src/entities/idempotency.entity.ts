import { Entity, Index, PrimaryKey, Property } from "@mikro-orm/core";

/** One claimed idempotency key per (caller, mutation, key), kept 24 h; see src/services/idempotency.ts. */
@Entity({ tableName: "idempotency_key" })
@Index({ properties: ["createdAt"] })
export class IdempotencyKey {
  /** actorOf(viewer): "user:<id>", "anonymous:<id>" or "api-key:<id>". */
  @PrimaryKey({ type: "string", length: 100 })
  caller: string;

  @PrimaryKey({ type: "string", length: 60 })
  operation: string;

  @PrimaryKey({ type: "string", length: 255 })
  key: string;

  /** sha256 (hex) of the call's arguments without the key. */
  @Property({ type: "string", length: 64 })
  argsHash: string;

  /** The id of what the first call made (an order, a payment attempt, ...). */
  @Property({ type: "uuid" })
  resultId: string;

  @Property({ type: "datetime", defaultRaw: "now()" })
  createdAt: Date = new Date();

  constructor(caller: string, operation: string, key: string, argsHash: string, resultId: string) {
    this.caller = caller;
    this.operation = operation;
    this.key = key;
    this.argsHash = argsHash;
    this.resultId = resultId;
  }
}
