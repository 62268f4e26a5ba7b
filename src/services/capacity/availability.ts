import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sql } from "../../db/sql";

/**
 * A product's availability: the least room (size - sold - held, never below 0) among the quotas
 * that limit it; products in no quota are unlimited (absent from the map, null in the API).
 */
const AVAILABLE_SQL = (param: string) => `
  select qp.product_id, greatest(0, min(q.size - q.sold - q.held))::int as available
    from quota_product qp join quota q on q.id = qp.quota_id
   where qp.product_id = any(${param}::uuid[])
   group by qp.product_id`;

/** In a transaction (SOLD_OUT's `available`, read after the conditional update found no room). */
export async function availableOf(em: EntityManager, productIds: readonly string[]): Promise<Map<string, number>> {
  const rows: { product_id: string; available: number }[] = await em.execute(AVAILABLE_SQL("?"), [`{${productIds.join(",")}}`]);
  return new Map(rows.map((r) => [r.product_id, r.available]));
}

/** On the read pool, for a page of products at once (the productAvailable loader). */
export async function availableOfProducts(sql: Sql, productIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ product_id: string; available: number }>(AVAILABLE_SQL("$1"), [productIds]);
  return new Map(rows.map((r) => [r.product_id, r.available]));
}

/** What an availability event carries about a product (read once per coalesced batch, see pubsub/availability.ts). */
export interface ProductAvailability {
  id: string;
  brandId: string;
  name: string;
  unitPrice: number;
  currency: string;
  createdAt: Date;
  available: number | null;
}

/**
 * Every product of the given quotas with its availability now, in one statement: what a batch of
 * availability notifications (quota ids) means for storefronts.
 */
export async function availabilityOfQuotas(sql: Sql, quotaIds: readonly string[]): Promise<ProductAvailability[]> {
  const { rows } = await sql.query<{
    id: string;
    brand_id: string;
    name: string;
    unit_price: number;
    currency: string;
    created_at: Date;
    available: number | null;
  }>(
    `select p.id, p.brand_id, p.name, p.unit_price, p.currency, p.created_at,
            (select greatest(0, min(q.size - q.sold - q.held))::int
               from quota_product qp join quota q on q.id = qp.quota_id where qp.product_id = p.id) as available
       from product p
      where p.id in (select product_id from quota_product where quota_id = any($1::uuid[]))
      order by p.created_at, p.id`,
    [quotaIds],
  );
  return rows.map((r) => ({
    id: r.id,
    brandId: r.brand_id,
    name: r.name,
    unitPrice: r.unit_price,
    currency: r.currency,
    createdAt: r.created_at,
    available: r.available,
  }));
}
