import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";

let orm: MikroORM;
beforeAll(async () => {
  // The run's database, migrated by the API at start: what the migrations produced.
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
});
afterAll(async () => orm?.close());

describe("migrations", () => {
  it("produce exactly the schema the entities describe (a changed entity without a migration fails here)", async () => {
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe("");
  });

  it("are all applied, in order, with none pending", async () => {
    const migrator = orm.getMigrator();
    expect(await migrator.getPendingMigrations()).toEqual([]);
    const executed = (await migrator.getExecutedMigrations()).map((m) => m.name);
    expect(executed).toEqual([...executed].sort());
    expect(executed.length).toBeGreaterThanOrEqual(2);
  });
});
