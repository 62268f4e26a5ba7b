import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import type { Sql } from "../../src/db/sql";
import { Order, PaymentAttempt } from "../../src/entities";
import { AUTH_SUBJECTS } from "../../src/schema/auth-directive";
import { attemptById, attemptView, attemptsByOrderIds, eventsByOrderIds, orderPage, orderView, ordersByIds } from "../../src/services/order/order.repository";
import { decodeCursor } from "../../src/services/pagination";
import { db } from "../helpers/api";
import { anonymous, brandWithProducts, payOrder, placeOrder, type BrandSetup } from "../helpers/fixtures";

// The repository against the run's database: the one mapping (an entity a mutation wrote and a row
// read back give the same view) and the one keyset routine (one statement per page).

let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
});
afterAll(async () => orm?.close());

/** The test pool, counting the statements sent through it. */
function counting(): Sql & { statements: number } {
  const sql = {
    statements: 0,
    query: (text: string, params?: unknown[]) => {
      sql.statements++;
      return db().query(text, params);
    },
  };
  return sql as Sql & { statements: number };
}

describe("one mapping from entity and row to the view", () => {
  it("a paid order's view is the same, key for key and in the same order, from its entity and from its row", async () => {
    const brand = await brandWithProducts();
    const { token } = await anonymous();
    const placed = await placeOrder(brand, token);
    await payOrder(placed, token);

    const em = orm.em.fork();
    const entity = await em.findOneOrFail(Order, placed.id);
    const attemptEntity = await em.findOneOrFail(PaymentAttempt, { order: placed.id });
    const fromEntity = orderView(entity);
    const [fromRow] = await ordersByIds(db(), [placed.id]);
    expect(fromRow).toEqual(fromEntity);
    expect(Object.keys(fromRow)).toEqual(Object.keys(fromEntity));
    expect(fromEntity).toMatchObject({ id: placed.id, brandId: brand.brandId, status: "PAID", lines: entity.snapshot!.lines });
    expect(fromEntity.paidAt).toBeInstanceOf(Date);

    // Attempts and events read in the order's statement (JSON) or by the loaders: the same views.
    const [withIncludes] = await ordersByIds(db(), [placed.id], { attempts: true, events: true });
    const { attempts, events, ...order } = withIncludes;
    expect(order).toEqual(fromEntity);
    expect(attempts).toEqual([attemptView(attemptEntity)]);
    expect(attempts).toEqual(await attemptsByOrderIds(db(), [placed.id]));
    expect(await attemptById(db(), attemptEntity.id)).toEqual(attemptView(attemptEntity));
    expect(Object.keys(attempts![0])).toEqual(Object.keys(attemptView(attemptEntity)));
    expect(events).toEqual(await eventsByOrderIds(db(), [placed.id]));
    expect(events!.map((e) => [e.from, e.to])).toEqual([
      [null, "PENDING"],
      ["PENDING", "PAID"],
    ]);
    // @auth reads the same shape whichever path produced it.
    expect(AUTH_SUBJECTS.Order(fromEntity)).toEqual({ brandId: brand.brandId, ownerId: entity.customer!.id });
    expect(AUTH_SUBJECTS.Order(fromRow)).toEqual(AUTH_SUBJECTS.Order(fromEntity));
  });
});

describe("order pages through the one keyset routine", () => {
  let brand: BrandSetup;
  let newestFirst: string[];
  beforeAll(async () => {
    brand = await brandWithProducts();
    const { token } = await anonymous();
    for (let i = 0; i < 12; i++) await placeOrder(brand, token);
    const { rows } = await db().query("select id from orders where brand_id = $1 order by created_at desc, id desc", [brand.brandId]);
    newestFirst = rows.map((r) => r.id);
  });

  it("walks a brand's orders newest first with one statement per page, whatever the page size", async () => {
    for (const first of [5, 10, 50, 100]) {
      const sql = counting();
      const seen: string[] = [];
      let cursor = null;
      let pages = 0;
      for (;;) {
        const page = await orderPage(sql, { brandId: brand.brandId }, first, cursor, { attempts: true, events: true });
        pages++;
        expect(page.totalCount).toBe(12);
        seen.push(...page.edges.map((e) => e.node.id));
        expect(page.edges.every((e) => e.node.events!.length === 1 && e.node.attempts!.length === 0)).toBe(true);
        if (!page.pageInfo.hasNextPage) break;
        cursor = decodeCursor(page.pageInfo.endCursor!);
      }
      expect(seen).toEqual(newestFirst);
      expect(pages).toBe(Math.ceil(12 / first));
      expect(sql.statements, `first = ${first}`).toBe(pages);
    }
  });

  it("counts an empty page with a second statement (and only then)", async () => {
    const sql = counting();
    const page = await orderPage(sql, { brandId: brand.brandId, statuses: ["FULFILLED" as never] }, 10, null);
    expect(page.edges).toEqual([]);
    expect(page.totalCount).toBe(0);
    expect(page.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(sql.statements).toBe(2);
  });

  it("a bounded count (search) reads a first page that holds the whole answer once, and counts separately otherwise", async () => {
    const sql = counting();
    const texts: string[] = [];
    const query = sql.query;
    sql.query = ((text: string, params?: unknown[]) => (texts.push(text), query(text, params))) as typeof sql.query;
    const whole = await orderPage(sql, { brandId: brand.brandId }, 20, null, {}, 1_000);
    expect([whole.edges.length, whole.totalCount, whole.pageInfo.hasNextPage, sql.statements]).toEqual([12, 12, false, 1]);
    expect(texts[0]).not.toMatch(/count\(/); // the filter (an index scan for a search) is read once, not again for the count
    const first = await orderPage(sql, { brandId: brand.brandId }, 5, null, {}, 1_000);
    expect([first.edges.length, first.totalCount, first.pageInfo.hasNextPage, sql.statements]).toEqual([5, 12, true, 3]);
    const next = await orderPage(sql, { brandId: brand.brandId }, 10, decodeCursor(first.pageInfo.endCursor!), {}, 1_000);
    expect([next.edges.length, next.totalCount, next.pageInfo.hasNextPage, sql.statements]).toEqual([7, 12, false, 5]);
    const capped = await orderPage(sql, { brandId: brand.brandId }, 5, null, {}, 10);
    expect(capped.totalCount).toBe(11); // more than 10
  });
});
