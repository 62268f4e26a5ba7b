import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BrandRole } from "../../src/entities/enums";
import { ormOptions } from "../../src/db/orm";
import type { Viewer } from "../../src/services/auth/viewer";
import { Permission } from "../../src/services/access/permissions";
import { requireAccess } from "../../src/services/access/require";
import { brandWithProducts, placeOrder, signUp, type Account, type BrandSetup } from "../helpers/fixtures";

/**
 * requireAccess against the run's database: a batch of ids is read in one statement, a brand the
 * caller is a member of in none, and the errors are the ones the services answered before the
 * access module (NOT_FOUND alike for unknown and someone else's ids, FORBIDDEN for a low role).
 * Statements are counted from MikroORM's own query log.
 */

let orm: MikroORM;
const statements: string[] = [];
let X: BrandSetup, Y: BrandSetup, customer: Account, other: Account;
let orders: string[], otherOrder: string;

beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 }, debug: ["query"], logger: (line: string) => statements.push(line) }));
  [X, Y, customer, other] = await Promise.all([brandWithProducts(), brandWithProducts(), signUp("access-a"), signUp("access-b")]);
  orders = (await Promise.all([placeOrder(X, customer.token), placeOrder(X, customer.token), placeOrder(Y, customer.token)])).map((o) => o.id);
  otherOrder = (await placeOrder(X, other.token)).id;
});
afterAll(async () => orm?.close());

const user = (id: string, roles: [string, BrandRole][] = [], isAdmin = false): Viewer => ({
  kind: "user",
  userId: id,
  isAdmin,
  brandRoles: new Map(roles),
  expiresAtMs: Infinity,
});

/** Runs one check and counts the statements it sent; the error's code and message, or "ok". */
async function check(viewer: Viewer, permission: Permission, ids: string[], opts = {}) {
  const before = statements.filter((l) => /select/i.test(l)).length;
  const outcome = await requireAccess({ em: orm.em.fork(), viewer }, permission, ids, opts).then(
    (checked) => ({ ok: checked }),
    (e) => ({ code: e.extensions?.code, message: e.message, field: e.extensions?.field }),
  );
  return { outcome, statements: statements.filter((l) => /select/i.test(l)).length - before };
}

describe("requireAccess", () => {
  it("checks a batch of orders in one statement: the customer's own pass, one of someone else's fails the batch as NOT_FOUND", async () => {
    const me = user(customer.userId);
    expect(await check(me, Permission.ORDER_READ, orders)).toEqual({ outcome: { ok: orders }, statements: 1 });
    expect(await check(me, Permission.ORDER_READ, [...orders, otherOrder])).toEqual({
      outcome: { code: "NOT_FOUND", message: "Order not found", field: undefined },
      statements: 1,
    });
    // Malformed and unknown ids answer as someone else's; a malformed one costs no read.
    expect((await check(me, Permission.ORDER_READ, ["nope"])).statements).toBe(0);
    expect((await check(me, Permission.ORDER_READ, [crypto.randomUUID()])).outcome).toEqual({
      code: "NOT_FOUND",
      message: "Order not found",
      field: undefined,
    });
  });

  it("answers FORBIDDEN with the permission's message to a caller who sees the order but lacks the role", async () => {
    expect((await check(user(customer.userId), Permission.ORDER_FULFIL, [orders[0]])).outcome).toEqual({
      code: "FORBIDDEN",
      message: "Fulfilling needs COORGANIZER or higher in the brand",
      field: undefined,
    });
    const staff = user("staff", [[X.brandId, BrandRole.COORGANIZER]]);
    expect((await check(staff, Permission.ORDER_FULFIL, orders.slice(0, 2))).outcome).toEqual({ ok: orders.slice(0, 2) });
    expect(await check(staff, Permission.ORDER_FULFIL, orders)).toMatchObject({ outcome: { code: "NOT_FOUND" } }); // the third is brand Y's
  });

  it("decides a member's brand without reading it, reads it for ADMIN, and hides it from outsiders", async () => {
    const owner = user("owner", [[X.brandId, BrandRole.OWNER]]);
    expect(await check(owner, Permission.API_KEY_CREATE, [X.brandId.toUpperCase()])).toEqual({ outcome: { ok: [X.brandId] }, statements: 0 });
    const organizer = user("organizer", [[X.brandId, BrandRole.ORGANIZER]]);
    expect((await check(organizer, Permission.API_KEY_CREATE, [X.brandId])).outcome).toEqual({
      code: "FORBIDDEN",
      message: "This needs the OWNER role in the brand",
      field: undefined,
    });
    const admin = user("admin", [], true);
    expect(await check(admin, Permission.BRAND_UPDATE, [X.brandId, Y.brandId])).toEqual({ outcome: { ok: [X.brandId, Y.brandId] }, statements: 1 });
    expect((await check(admin, Permission.BRAND_UPDATE, [crypto.randomUUID()], { field: "id" })).outcome).toEqual({
      code: "NOT_FOUND",
      message: "id: no such brand",
      field: "id",
    });
    expect(await check(user("outsider"), Permission.BRAND_UPDATE, [X.brandId])).toEqual({
      outcome: { code: "NOT_FOUND", message: "brandId: no such brand", field: "brandId" },
      statements: 0,
    });
  });
});
