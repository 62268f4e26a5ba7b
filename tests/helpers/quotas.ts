import { expect } from "vitest";
import { count, gql, ok, testClientIp, type Auth } from "./api";
import { anonymous, type BrandSetup } from "./fixtures";

export const CREATE_QUOTA = `mutation ($input: CreateQuotaInput!) { createQuota(input: $input) { id name size sold held available brand { id } products { id } } }`;
export const UPDATE_QUOTA = `mutation ($id: ID!, $input: UpdateQuotaInput!) { updateQuota(id: $id, input: $input) { id name size sold held available products { id } } }`;
export const GET_QUOTA = `query ($id: ID!) { quota(id: $id) { id size sold held available } }`;
export const ORDER = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id total currency status } }`;

/** A quota of the brand, created by its OWNER from an address of its own. */
export async function createQuota(brand: BrandSetup, size: number, productIds: string[], name = "Venue") {
  const { createQuota } = await ok(
    CREATE_QUOTA,
    { input: { brandId: brand.brandId, name, size, productIds } },
    { token: brand.owner.token, headers: { "x-forwarded-for": testClientIp() } },
  );
  return createQuota as { id: string; size: number; sold: number; held: number; available: number };
}

/** A quota's counters as its brand's OWNER reads them. */
export async function quotaState(brand: BrandSetup, id: string): Promise<{ size: number; sold: number; held: number; available: number }> {
  const { quota } = await ok(GET_QUOTA, { id }, { token: brand.owner.token });
  const { size, sold, held, available } = quota;
  return { size, sold, held, available };
}

/** Product.available of each product, through the public brand query. */
export async function availability(brand: BrandSetup): Promise<Record<string, number | null>> {
  const { brand: b } = await ok(`query ($id: ID!) { brand(id: $id) { products { id available } } }`, { id: brand.brandId });
  return Object.fromEntries(b.products.map((p: { id: string; available: number | null }) => [p.id, p.available]));
}

/** createOrder of the given lines by a new anonymous buyer, each from its own client address. */
export async function buy(brand: BrandSetup, lines: { productId: string; quantity: number }[], extra: Record<string, unknown> = {}, auth: Auth = {}) {
  const token = auth.token ?? (await anonymous()).token;
  const r = await gql(
    ORDER,
    { input: { brandId: brand.brandId, lines, buyer: { name: "Ada", email: "ada@example.test" }, ...extra } },
    { headers: { "x-forwarded-for": testClientIp() }, ...auth, token },
  );
  return { r, token };
}

/** The rows a failed createOrder must not leave behind, for a before/after comparison. */
export async function writtenFor(brand: BrandSetup) {
  return {
    orders: await count("select 1 from orders where brand_id = $1", [brand.brandId]),
    holds: await count("select 1 from order_quota_hold h join quota q on q.id = h.quota_id where q.brand_id = $1", [brand.brandId]),
    couponUses: (await count("select 1 from coupon c, generate_series(1, c.uses) where c.brand_id = $1", [brand.brandId])) as number,
    events: await count("select 1 from order_event e join orders o on o.id = e.order_id where o.brand_id = $1", [brand.brandId]),
  };
}

export function expectSoldOut(r: Awaited<ReturnType<typeof buy>>["r"], productId: string, available: number) {
  expect(
    r.errors?.map((e) => e.extensions),
    JSON.stringify(r.body),
  ).toEqual([{ code: "SOLD_OUT", productId, available }]);
  expect(r.data ?? null).toBeNull();
}
