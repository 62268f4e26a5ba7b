import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { codes, gql, type Auth } from "../helpers/api";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";
import { eventually } from "../helpers/mail";
import { subscribe } from "../helpers/ws";

/**
 * Settings that production turns on by default, each checked on its own API process (sharing one
 * throw-away database): introspection and "Did you mean" suggestions off, PostgreSQL's
 * statement_timeout, and the per-request deadline. The database is locked on purpose, hence not
 * the run's shared one.
 */
let db: TestDatabase;
let strict: ApiProcess; // INTROSPECTION=false FIELD_SUGGESTIONS=false STATEMENT_TIMEOUT_MS=300 WEBHOOK_ALLOW_PRIVATE=false
let deadline: ApiProcess; // no statement timeout, REQUEST_TIMEOUT_MS=300
let owner: { token: string; brandId: string };

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "settings");
  // One after the other: the first applies the migrations.
  strict = await startApi({
    DATABASE_URL: db.url,
    INTROSPECTION: "false",
    FIELD_SUGGESTIONS: "false",
    GRAPHIQL: "false",
    STATEMENT_TIMEOUT_MS: "300",
    WEBHOOK_ALLOW_PRIVATE: "false",
    RUN_WORKER: "false",
  });
  deadline = await startApi({ DATABASE_URL: db.url, STATEMENT_TIMEOUT_MS: "0", REQUEST_TIMEOUT_MS: "300", RUN_WORKER: "false" });
  const signUp = await gql(`mutation { signUp(input: {email: "settings@example.test", password: "long enough password"}) { token } }`, undefined, {
    api: strict.url,
  });
  const token = signUp.data.signUp.token;
  const brand = await gql(`mutation { createBrand(input: {name: "Settings", currency: "EUR"}) { id } }`, undefined, { api: strict.url, token });
  owner = { token, brandId: brand.data.createBrand.id };
}, 90_000);

afterAll(async () => {
  await strict?.stop();
  await deadline?.stop();
  await db?.stop();
});

/** Holds an exclusive lock on the orders table until the returned function is called. */
const lockOrders = () => lockTable("orders");

async function lockTable(table: "orders" | "product"): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("begin");
  await client.query(`lock table ${table} in access exclusive mode`);
  return async () => {
    await client.query("rollback");
    await client.end();
  };
}

const ORDERS = `query Orders($b: ID!) { orders(brandId: $b, first: 10) { totalCount } }`;
const LEAK = /select |from |relation|lock |statement|cancel|postgres|mikro|\.ts:|\.js:|node_modules/i;

describe("introspection and suggestions off (INTROSPECTION=false, FIELD_SUGGESTIONS=false)", () => {
  it("refuses __schema and __type, but still answers __typename", async () => {
    const auth: Auth = { api: strict.url };
    for (const q of [`{ __schema { queryType { name } } }`, `{ __type(name: "Order") { name } }`]) {
      const r = await gql(q, undefined, auth);
      expect(r.status).toBe(400);
      expect(new Set(codes(r))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
      expect(r.errors![0].message).toMatch(/introspection/i);
    }
    expect((await gql(`{ __typename }`, undefined, auth)).data).toEqual({ __typename: "Query" });
    // The run's API (test defaults: both on) does answer, so the setting is what refuses.
    expect(codes(await gql(`{ __schema { queryType { name } } }`))).toEqual([]);
  });

  it("leaves 'Did you mean' out of errors over HTTP (fields and enum values) and WebSocket", async () => {
    const typo = `{ me { anonymou } }`;
    const suggesting = await gql(typo);
    expect(suggesting.errors![0].message).toMatch(/Did you mean "anonymous"\?/);
    const quiet = await gql(typo, undefined, { api: strict.url });
    expect(codes(quiet)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(quiet.errors![0].message).toBe(`Cannot query field "anonymou" on type "Viewer".`);

    const enumQuery = `query E($b: ID!, $s: [OrderStatus!]) { orders(brandId: $b, status: $s) { totalCount } }`;
    const badEnum = await gql(enumQuery, { b: owner.brandId, s: ["PAIDD"] }, { api: strict.url, token: owner.token });
    expect(codes(badEnum)).toEqual(["BAD_USER_INPUT"]);
    expect(badEnum.errors![0].message).toMatch(/PAIDD/);
    expect(badEnum.errors![0].message).not.toMatch(/Did you mean/);

    const ws = await subscribe(
      `subscription ($b: ID!) { orderStatusChanged(brandId: $b) { stats } }`,
      { b: owner.brandId },
      { token: owner.token, base: strict.url },
    );
    await ws.done;
    expect(ws.events[0].errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(ws.events[0].errors?.[0].message).not.toMatch(/Did you mean/);
    await ws.close();
  });
});

describe("webhook targets (WEBHOOK_ALLOW_PRIVATE=false)", () => {
  it("refuses a couponWebhookUrl on a private, loopback, link-local or local address, and accepts a public one", async () => {
    const update = (url: string) =>
      gql(
        `mutation U($id: ID!, $url: String) { updateBrand(id: $id, input: {couponWebhookUrl: $url}) { couponWebhookUrl } }`,
        { id: owner.brandId, url },
        { api: strict.url, token: owner.token },
      );
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/x",
      "http://10.0.0.7/",
      "https://localhost/x",
      "http://db.internal/",
    ]) {
      const r = await update(url);
      expect(codes(r), url).toEqual(["BAD_USER_INPUT"]);
      expect(r.errors![0].extensions?.field).toBe("input.couponWebhookUrl");
    }
    expect((await update("https://shop.example.com/hooks/coupons")).data.updateBrand.couponWebhookUrl).toBe("https://shop.example.com/hooks/coupons");
    // The run's API (test default: allowed) accepts loopback: the fake shop in the tests lives there.
  });
});

describe("statement_timeout (STATEMENT_TIMEOUT_MS=300)", () => {
  it("answers a statement PostgreSQL cancelled with TIMEOUT and no internals, then serves again", async () => {
    const unlock = await lockOrders();
    try {
      const started = Date.now();
      const r = await gql(ORDERS, { b: owner.brandId }, { api: strict.url, token: owner.token });
      const waited = Date.now() - started;
      expect(codes(r)).toEqual(["TIMEOUT"]);
      expect(r.errors![0].message).toBe("The database took too long to answer; try again");
      expect(JSON.stringify(r.errors)).not.toMatch(LEAK);
      expect(waited).toBeGreaterThanOrEqual(250); // it waited for the lock, then was cancelled
    } finally {
      await unlock();
    }
    const after = await gql(ORDERS, { b: owner.brandId }, { api: strict.url, token: owner.token });
    expect(codes(after)).toEqual([]);
    expect(after.data.orders.totalCount).toBe(0);
    // The cancelled statement is in the log as an error (the operator sees it), the client got none of it.
    // pino writes to the pipe asynchronously: wait for the line rather than expect it at once.
    await eventually(async () => expect(strict.logs.some((l) => l.includes('"level":50') && l.includes("57014"))).toBe(true));
  });
});

describe("per-request deadline (REQUEST_TIMEOUT_MS=300)", () => {
  it("answers 503 TIMEOUT when execution runs past the deadline, while other requests are served", async () => {
    const unlock = await lockOrders();
    try {
      const slow = gql(ORDERS, { b: owner.brandId }, { api: deadline.url, token: owner.token });
      // Meanwhile the process answers requests that do not need the locked table.
      const me = await gql(`{ me { user { email } } }`, undefined, { api: deadline.url, token: owner.token });
      expect(me.data.me.user.email).toBe("settings@example.test");
      const r = await slow;
      expect(r.status).toBe(503);
      expect(codes(r)).toEqual(["TIMEOUT"]);
      expect(r.errors![0].message).toMatch(/took longer than 300 ms/);
      expect(JSON.stringify(r.errors)).not.toMatch(LEAK);
    } finally {
      await unlock();
    }
    const after = await gql(ORDERS, { b: owner.brandId }, { api: deadline.url, token: owner.token });
    expect(after.status).toBe(200);
    expect(after.data.orders.totalCount).toBe(0);
  });

  it("stops the work itself: fields that had not started by the deadline never run", async () => {
    // m1 waits for the locked table past the deadline (then succeeds); m2 would create a brand after it.
    const orderId = await pendingOrder();
    const name = `late-${Date.now()}`;
    const doc = `mutation { m1: cancelOrder(orderId: "${orderId}") { id } m2: createBrand(input: { name: "${name}", currency: "EUR" }) { id } }`;
    const unlock = await lockOrders();
    let r;
    try {
      r = await gql(doc, undefined, { api: deadline.url, token: owner.token });
    } finally {
      await unlock();
    }
    expect(r.status).toBe(503);
    expect(codes(r)).toEqual(["TIMEOUT"]);
    // m1 now ends (NOT_FOUND); then either m2 is stopped (logged) or it creates the brand.
    const brands = () => pgCount(`select 1 from brand where name = $1`, [name]);
    const stopped = () => deadline.logs.some((l) => l.includes("execution ended after its deadline") && l.includes('"stoppedFields":1'));
    await eventually(async () => expect(stopped() || (await brands()) > 0, deadline.logs.filter((l) => /deadline|graphql/.test(l)).join("\n")).toBe(true));
    expect(await brands()).toBe(0);
    expect(stopped()).toBe(true);
  });

  it("gives each subscription event's execution the same deadline over WebSocket", async () => {
    // The event's selection reads the brand's products, a table the change itself does not touch.
    const live = await subscribe(
      `subscription ($b: ID!) { orderStatusChanged(brandId: $b) { seq status order { id brand { products { id } } } } }`,
      { b: owner.brandId },
      { token: owner.token, base: deadline.url },
    );
    try {
      const orderId = await pendingOrder();
      await eventually(async () => expect(live.events).toHaveLength(1));
      expect(live.events[0].data.orderStatusChanged.order.brand.products.length).toBeGreaterThan(0);
      const unlock = await lockTable("product");
      try {
        expect(
          codes(await gql(`mutation C($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: orderId }, { api: deadline.url, token: owner.token })),
        ).toEqual([]);
        // While the products stay locked, the event's execution passes its 300 ms deadline.
        await eventually(async () => expect(live.events).toHaveLength(2), 5_000);
        expect(live.events[1].errors?.map((e) => e.extensions?.code)).toEqual(["TIMEOUT"]);
      } finally {
        await unlock();
      }
    } finally {
      await live.close();
    }
  });
});

/** A new PENDING order of the owner's brand, placed on the deadline API. */
async function pendingOrder(): Promise<string> {
  const auth = { api: deadline.url, token: owner.token };
  const product = await gql(`mutation P($b: ID!) { createProduct(input: { brandId: $b, name: "Ticket", unitPrice: 100 }) { id } }`, { b: owner.brandId }, auth);
  const input = {
    brandId: owner.brandId,
    lines: [{ productId: product.data.createProduct.id, quantity: 1 }],
    buyer: { name: "Ada", email: "ada@example.test" },
  };
  const created = await gql(`mutation O($input: CreateOrderInput!) { createOrder(input: $input) { id } }`, { input }, auth);
  return created.data.createOrder.id;
}

async function pgCount(sql: string, params: unknown[]): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}
