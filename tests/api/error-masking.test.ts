import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { eventually } from "../helpers/mail";
import { siblingDatabase, startApi, type ApiProcess, type TestDatabase } from "../helpers/processes";

/**
 * An unexpected failure (here: a table dropped under the running API) must reach the client as
 * INTERNAL_SERVER_ERROR with a request id and nothing else — no SQL, table names, stack or file
 * paths — while the log keeps the real error under that request id. Own API and database, since
 * the database is broken on purpose.
 */
let db: TestDatabase;
let api: ApiProcess;

beforeAll(async () => {
  db = await siblingDatabase(inject("databaseUrl"), "masking");
  api = await startApi({ DATABASE_URL: db.url });
});
afterAll(async () => {
  await api?.stop();
  await db?.stop();
});

async function post(query: string, token?: string): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

const LEAK = /order_event|relation|select |insert |syntax|at .*\(|node_modules|\/src\/|\.ts:|\.js:|stack|mikro|postgres/i;

describe("an unexpected error", () => {
  it("answers INTERNAL_SERVER_ERROR with a request id and no internals, and logs the real cause under that id", async () => {
    const signUp = await post('mutation { signUp(input: {email: "mask@example.test", password: "long enough password"}) { token } }');
    const token = signUp.body.data.signUp.token;
    const brand = await post('mutation { createBrand(input: {name: "Masked", currency: "EUR"}) { id } }', token);
    const brandId = brand.body.data.createBrand.id;
    const product = await post(`mutation { createProduct(input: {brandId: "${brandId}", name: "P", unitPrice: 100}) { id } }`, token);
    const order = await post(
      `mutation { createOrder(input: {brandId: "${brandId}", lines: [{productId: "${product.body.data.createProduct.id}", quantity: 1}],
        buyer: {name: "B", email: "b@example.test"}}) { id } }`,
      token,
    );
    const orderId = order.body.data.createOrder.id;

    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query("drop table order_event");
    await sql.end();

    const r = await post(`{ order(id: "${orderId}") { id number events { to } } }`, token);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ order: null });
    expect(r.body.errors).toHaveLength(1);
    const [error] = r.body.errors;
    expect(error.message).toBe("Internal server error");
    expect(error.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(r.text).not.toMatch(LEAK);

    // The child's log reaches us through a pipe, possibly a moment after the response.
    await eventually(async () => {
      const logged = api.logs.filter((l) => l.includes(error.extensions.requestId));
      expect(logged.some((l) => l.includes('"unexpected error"') && l.includes("order_event"))).toBe(true);
    });
  });

  it("while resolving the caller (before any resolver) answers 500 INTERNAL_SERVER_ERROR with a request id, and logs it", async () => {
    const owner = await post('mutation { signUp(input: {email: "keys@example.test", password: "long enough password"}) { token } }');
    const token = owner.body.data.signUp.token;
    const brand = await post('mutation { createBrand(input: {name: "Keys", currency: "EUR"}) { id } }', token);
    const key = await post(`mutation { createApiKey(brandId: "${brand.body.data.createBrand.id}") { secret } }`, token);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query("drop table api_key");
    await sql.end();

    const res = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key.body.data.createApiKey.secret },
      body: JSON.stringify({ query: "{ me { anonymous } }" }),
    });
    const text = await res.text();
    expect(res.status).toBe(500);
    const body = JSON.parse(text);
    expect(body.errors).toEqual([
      { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR", requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) } },
    ]);
    expect(text).not.toMatch(LEAK);
    const requestId = body.errors[0].extensions.requestId;
    await eventually(async () =>
      expect(api.logs.some((l) => l.includes(requestId) && l.includes("resolving the caller failed") && l.includes("api_key"))).toBe(true),
    );
  });
});
