import { Entity, Property } from "@mikro-orm/core";

/** Sliding-window hit times (ms since epoch) per rate-limit key; see src/rate-limit. */
@Entity({ tableName: "rate_limit_hits" })
export class RateLimitHits {
  @Property({ type: "string", length: 400, primary: true })
  key: string;

  @Property({ type: "json" })
  hits: number[];

  @Property({ type: "datetime", defaultRaw: "now()" })
  updatedAt: Date = new Date();

  constructor(key: string, hits: number[]) {
    this.key = key;
    this.hits = hits;
  }
}
