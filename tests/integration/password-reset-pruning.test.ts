import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import { prunePasswordResets } from "../../src/services/auth/password-reset";
import { db, uniqueEmail } from "../helpers/api";

let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
});
afterAll(async () => orm?.close());

describe("password-reset pruning (the sweeper's hourly task)", () => {
  it("deletes resets expired more than a day ago, used or not, for addresses with or without an account, and keeps the rest", async () => {
    const email = uniqueEmail("nobody"); // no account: requestPasswordReset stores a reset all the same
    const insert = (name: string, expiredAgo: string, used: boolean) =>
      db().query(
        `insert into password_reset (id, created_at, email, token_hash, expires_at, used_at)
         values (gen_random_uuid(), now() - $2::interval - interval '1 hour', $1, $3, now() - $2::interval, case when $4 then now() - $2::interval else null end)`,
        [email, expiredAgo, `${name}-${randomBytes(16).toString("hex")}`, used],
      );
    await insert("old-unused", "24 hours 1 second", false);
    await insert("old-used", "3 days", true);
    await insert("recent", "23 hours 59 minutes", false);
    await insert("live", "-30 minutes", false);
    expect(await prunePasswordResets(orm.em.fork())).toBeGreaterThanOrEqual(2);
    const left = await db().query("select token_hash from password_reset where email = $1 order by expires_at", [email]);
    expect(left.rows.map((r) => r.token_hash.split("-")[0])).toEqual(["recent", "live"]);
  });
});
