import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import { pruneIdempotencyKeys } from "../../src/services/idempotency";
import { db } from "../helpers/api";

let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
});
afterAll(async () => orm?.close());

describe("idempotency-key pruning (the sweeper's hourly task)", () => {
  it("deletes entries older than 24 h and keeps younger ones", async () => {
    const caller = `user:${randomUUID()}`;
    const insert = (key: string, age: string) =>
      db().query(
        `insert into idempotency_key (caller, operation, key, args_hash, result_id, created_at) values ($1, 'createOrder', $2, $3, $4, now() - $5::interval)`,
        [caller, key, "0".repeat(64), randomUUID(), age],
      );
    await insert("old", "24 hours 1 second");
    await insert("young", "23 hours 59 minutes");
    expect(await pruneIdempotencyKeys(orm.em.fork())).toBeGreaterThanOrEqual(1);
    const left = await db().query("select key from idempotency_key where caller = $1", [caller]);
    expect(left.rows.map((r) => r.key)).toEqual(["young"]);
  });
});
