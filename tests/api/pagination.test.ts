import { beforeAll, describe, expect, it } from "vitest";
import { BrandOrdersDocument, MyOrdersDocument, type OrderStatus } from "../graphql/generated";
import { db, ok, type Auth } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, member, payOrder, placeOrder, signUp, type Account, type BrandSetup } from "../helpers/fixtures";

type Placed = Awaited<ReturnType<typeof placeOrder>>;

interface Page {
  ids: string[];
  statuses: string[];
  cursors: string[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null };
}

/** Follows endCursor until hasNextPage is false (guarded against a server that never stops). */
async function walk(fetchPage: (after: string | null) => Promise<Page>): Promise<Page[]> {
  const pages: Page[] = [];
  let after: string | null = null;
  do {
    const page = await fetchPage(after);
    pages.push(page);
    after = page.pageInfo.endCursor ?? null;
    if (pages.length > 30) throw new Error("pagination did not terminate");
  } while (pages.at(-1)!.pageInfo.hasNextPage);
  return pages;
}

type Conn = { totalCount: number; pageInfo: Page["pageInfo"]; edges: { cursor: string; node: { id: string; status: string } }[] };
const toPage = (c: Conn): Page => ({
  ids: c.edges.map((e) => e.node.id),
  statuses: c.edges.map((e) => e.node.status),
  cursors: c.edges.map((e) => e.cursor),
  totalCount: c.totalCount,
  pageInfo: c.pageInfo,
});

const brandPages = (brand: BrandSetup, first: number, status?: OrderStatus[], auth: Auth = { token: brand.owner.token }) =>
  walk(async (after) => toPage((await ok(BrandOrdersDocument, { brandId: brand.brandId, first, after, status }, auth)).orders));

const myPages = (token: string, first: number) => walk(async (after) => toPage((await ok(MyOrdersDocument, { first, after }, { token })).myOrders));

/** Newest first, ties on the same millisecond broken by id, both descending (what the server promises). */
const newestFirst = (orders: Placed[]) => [...orders].sort((a, b) => cmp(b.createdAt, a.createdAt) || cmp(b.id, a.id)).map((o) => o.id);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

let X: BrandSetup;
let alice: Account, bob: Account;
let carol: { token: string };
let all: Placed[]; // the 25 orders of brand X
let aliceOrders: Placed[]; // alice's orders in X and in another brand
let paid: Set<string>;

beforeAll(async () => {
  let other: BrandSetup;
  [X, other, alice, bob, carol] = await Promise.all([brandWithProducts(), brandWithProducts(), signUp("alice"), signUp("bob"), anonymous()]);
  // 12 by alice, 8 by bob, 5 by an anonymous session; in concurrent batches so some share a millisecond.
  const placers = [...Array(12).fill(alice.token), ...Array(8).fill(bob.token), ...Array(5).fill(carol.token)];
  all = [];
  for (let i = 0; i < placers.length; i += 5) {
    all.push(...(await Promise.all(placers.slice(i, i + 5).map((token) => placeOrder(X, token)))));
  }
  const elsewhere = [await placeOrder(other, alice.token), await placeOrder(other, alice.token)];
  aliceOrders = [...all.slice(0, 12), ...elsewhere];
  // Pay 7 of them (some of each customer's) through the provider's signed webhook.
  const toPay = [all[0], all[3], all[11], all[12], all[15], all[20], all[24]];
  const tokenOf = (i: number) => (i < 12 ? alice.token : i < 20 ? bob.token : carol.token);
  await Promise.all(toPay.map((o) => payOrder(o, tokenOf(all.indexOf(o)))));
  paid = new Set(toPay.map((o) => o.id));
});

describe("orders(brandId) pages through a brand's 25 orders", () => {
  it("in pages of 10, 10 and 5, newest first, without overlap, covering every order", async () => {
    const pages = await brandPages(X, 10);
    expect(pages.map((p) => p.ids.length)).toEqual([10, 10, 5]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    expect(pages.map((p) => p.totalCount)).toEqual([25, 25, 25]);
    const walked = pages.flatMap((p) => p.ids);
    expect(new Set(walked).size).toBe(25);
    expect(walked).toEqual(newestFirst(all));
  });

  it("startCursor and endCursor are the first and last edge's cursors, and every cursor is distinct", async () => {
    const pages = await brandPages(X, 10);
    for (const p of pages) {
      expect(p.pageInfo.startCursor).toBe(p.cursors[0]);
      expect(p.pageInfo.endCursor).toBe(p.cursors.at(-1));
    }
    expect(new Set(pages.flatMap((p) => p.cursors)).size).toBe(25);
  });

  it("continuing from any edge's cursor gives exactly the orders after it", async () => {
    const [first] = await brandPages(X, 25);
    const expected = newestFirst(all);
    for (const i of [0, 6, 23]) {
      const { orders } = await ok(BrandOrdersDocument, { brandId: X.brandId, first: 100, after: first.cursors[i] }, { token: X.owner.token });
      expect(orders.edges.map((e) => e.node.id)).toEqual(expected.slice(i + 1));
      expect(orders.totalCount).toBe(25);
    }
    const last = await ok(BrandOrdersDocument, { brandId: X.brandId, after: first.cursors[24] }, { token: X.owner.token });
    expect(last.orders.edges).toEqual([]);
    expect(last.orders.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
  });

  it("the default page size is 20", async () => {
    const { orders } = await ok(BrandOrdersDocument, { brandId: X.brandId }, { token: X.owner.token });
    expect(orders.edges).toHaveLength(20);
    expect(orders.pageInfo.hasNextPage).toBe(true);
  });

  it("a brand member and the brand's key page the same way as the owner", async () => {
    const co = await member(X, "COORGANIZER");
    const key = await apiKey(X);
    const byOwner = (await brandPages(X, 7)).flatMap((p) => p.ids);
    expect((await brandPages(X, 7, undefined, { token: co.token })).flatMap((p) => p.ids)).toEqual(byOwner);
    expect((await brandPages(X, 7, undefined, { apiKey: key })).flatMap((p) => p.ids)).toEqual(byOwner);
  });
});

describe("orders(brandId, status) filters before paging", () => {
  it("[PAID] lists exactly the 7 paid orders with totalCount 7", async () => {
    const pages = await brandPages(X, 5, ["PAID"]);
    expect(pages.map((p) => p.ids.length)).toEqual([5, 2]);
    expect(pages.map((p) => p.totalCount)).toEqual([7, 7]);
    expect(pages.flatMap((p) => p.statuses).every((s) => s === "PAID")).toBe(true);
    expect(pages.flatMap((p) => p.ids)).toEqual(newestFirst(all.filter((o) => paid.has(o.id))));
  });

  it("[PENDING] lists the other 18 in pages of 10 and 8", async () => {
    const pages = await brandPages(X, 10, ["PENDING"]);
    expect(pages.map((p) => p.ids.length)).toEqual([10, 8]);
    expect(pages.map((p) => p.totalCount)).toEqual([18, 18]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, false]);
    expect(pages.flatMap((p) => p.ids)).toEqual(newestFirst(all.filter((o) => !paid.has(o.id))));
  });

  it("[PENDING, PAID] is everything; [CANCELLED] is an empty connection", async () => {
    const both = await brandPages(X, 100, ["PENDING", "PAID"]);
    expect(both.map((p) => [p.ids.length, p.totalCount])).toEqual([[25, 25]]);
    const [none] = await brandPages(X, 10, ["CANCELLED"]);
    expect(none).toMatchObject({ ids: [], totalCount: 0, pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });
});

describe("myOrders pages through one customer's orders only", () => {
  it("alice walks her 14 orders (two brands) in pages of 5, 5 and 4 and sees no one else's", async () => {
    const pages = await myPages(alice.token, 5);
    expect(pages.map((p) => p.ids.length)).toEqual([5, 5, 4]);
    expect(pages.map((p) => p.totalCount)).toEqual([14, 14, 14]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages[0].pageInfo.hasPreviousPage).toBe(false);
    expect(pages.flatMap((p) => p.ids)).toEqual(newestFirst(aliceOrders));
  });

  it("bob and the anonymous session see exactly their own orders, with their statuses", async () => {
    const bobs = (await myPages(bob.token, 3)).flatMap((p) => p.ids);
    expect(bobs).toEqual(newestFirst(all.slice(12, 20)));
    const carols = await myPages(carol.token, 2);
    expect(carols.map((p) => p.ids.length)).toEqual([2, 2, 1]);
    expect(carols.flatMap((p) => p.ids)).toEqual(newestFirst(all.slice(20)));
    const paidOfCarol = carols.flatMap((p) => p.ids.filter((_, i) => p.statuses[i] === "PAID"));
    expect(new Set(paidOfCarol)).toEqual(new Set([all[20].id, all[24].id]));
  });

  it("a cursor taken from alice's list cannot reveal other customers' orders to bob", async () => {
    const [page] = await myPages(alice.token, 14);
    const { myOrders } = await ok(MyOrdersDocument, { first: 100, after: page.cursors[0] }, { token: bob.token });
    const bobsIds = new Set(all.slice(12, 20).map((o) => o.id));
    expect(myOrders.edges.every((e) => bobsIds.has(e.node.id))).toBe(true);
    expect(myOrders.totalCount).toBe(8);
  });

  it("a customer without orders gets an empty connection", async () => {
    const fresh = await signUp("fresh");
    const [page] = await myPages(fresh.token, 10);
    expect(page).toMatchObject({ ids: [], totalCount: 0, pageInfo: { hasNextPage: false, hasPreviousPage: false } });
  });
});

describe("keyset paging stays consistent while orders arrive", () => {
  it("an order placed between two pages neither repeats nor shifts the following page", async () => {
    const brand = await brandWithProducts();
    const customer = await signUp("live");
    const initial: Placed[] = [];
    for (let i = 0; i < 5; i++) initial.push(await placeOrder(brand, customer.token));
    const auth = { token: brand.owner.token };
    const p1 = (await ok(BrandOrdersDocument, { brandId: brand.brandId, first: 2 }, auth)).orders;
    const late = await placeOrder(brand, customer.token);
    const p2 = (await ok(BrandOrdersDocument, { brandId: brand.brandId, first: 2, after: p1.pageInfo.endCursor }, auth)).orders;
    const p3 = (await ok(BrandOrdersDocument, { brandId: brand.brandId, first: 2, after: p2.pageInfo.endCursor }, auth)).orders;
    const walked = [p1, p2, p3].flatMap((p) => p.edges.map((e) => e.node.id));
    expect(walked).toEqual(newestFirst(initial));
    expect(walked).not.toContain(late.id);
    expect([p1.totalCount, p2.totalCount, p3.totalCount]).toEqual([5, 6, 6]);
    expect(p3.pageInfo.hasNextPage).toBe(false);
  });

  it("orders created within one millisecond by SQL (an import, microseconds) page one by one without a gap", async () => {
    const brand = await brandWithProducts();
    const customer = await signUp("import");
    const placed: Placed[] = [];
    for (let i = 0; i < 6; i++) placed.push(await placeOrder(brand, customer.token));
    // As `insert ... created_at = now()` would write them: 100 µs apart, all within 0.6 ms.
    await db().query(
      "update orders o set created_at = '2026-03-01 10:00:00.1231+00'::timestamptz + make_interval(secs => n.i * 0.0001) from unnest($1::uuid[]) with ordinality n(id, i) where o.id = n.id",
      [placed.map((o) => o.id)],
    );
    const pages = await brandPages(brand, 1);
    expect(pages.flatMap((p) => p.ids).sort()).toEqual(placed.map((o) => o.id).sort());
    expect(pages).toHaveLength(6);
  });
});
