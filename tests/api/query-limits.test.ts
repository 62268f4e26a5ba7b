import { getIntrospectionQuery } from "graphql";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { QUERY_LIMITS } from "../../src/http/limits";
import { apiUrl, codes, count, gql, TEST_CLIENT_IP } from "../helpers/api";
import { brandWithProducts, signUp } from "../helpers/fixtures";
import { subscribe, wsUrl } from "../helpers/ws";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/** order → paymentAttempts → order → … : `levels` selection levels deep. */
function deepOrderQuery(levels: number): string {
  let inner = "id";
  for (let i = 1; i < levels; i++) inner = i % 2 ? `paymentAttempts { ${inner} }` : `order { ${inner} }`;
  return `query Deep($id: ID!) { order(id: $id) { ${inner} } }`;
}

const ID = { id: "00000000-0000-4000-8000-000000000000" };

describe("query shape limits over HTTP", () => {
  it(`refuses depth above ${QUERY_LIMITS.maxDepth} before executing, and executes a query just within it`, async () => {
    // graphql-armor counts one level more than selection levels here; the chain alternates
    // order/paymentAttempts, so valid queries have an even number of levels.
    const tooDeep = await gql(deepOrderQuery(QUERY_LIMITS.maxDepth), ID); // depth 11
    expect(tooDeep.status).toBe(400);
    expect(new Set(codes(tooDeep))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
    expect(tooDeep.errors?.[0].message).toMatch(/depth/i);
    // Depth 9 within the cost limit (attempts and products are charged 20 and 100 times): executed.
    const within = `query D($id: ID!) { paymentAttempt(id: $id) { order { paymentAttempts { order { brand { products { brand { id } } } } } } } }`;
    expect(codes(await gql(within, ID))).toEqual(["NOT_FOUND"]);
  });

  it(`refuses more than ${QUERY_LIMITS.maxAliases} aliases and more than ${QUERY_LIMITS.maxDirectives} directives`, async () => {
    const aliases = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { anonymous }`).join(" ");
    expect(new Set(codes(await gql(`{ ${aliases} }`)))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
    const ok = Array.from({ length: QUERY_LIMITS.maxAliases }, (_, i) => `a${i}: me { anonymous }`).join(" ");
    expect(codes(await gql(`{ ${ok} }`))).toEqual([]);
    const directives = Array.from({ length: QUERY_LIMITS.maxDirectives + 1 }, () => "@include(if: true)").join(" ");
    expect(new Set(codes(await gql(`{ me ${directives} { anonymous } }`)))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
  });

  it(`stops parsing after ${QUERY_LIMITS.maxTokens} tokens`, async () => {
    const fields = Array.from({ length: QUERY_LIMITS.maxTokens }, () => "anonymous").join(" ");
    const r = await gql(`{ me { ${fields} } }`);
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(["GRAPHQL_PARSE_FAILED"]);
  });

  it("lets GraphiQL's introspection query through", async () => {
    const r = await gql(getIntrospectionQuery());
    expect(codes(r)).toEqual([]);
    expect(r.data.__schema.queryType.name).toBe("Query");
  });
});

describe("query shape limits over WebSocket", () => {
  it("applies the same limits to subscriptions", async () => {
    const brand = await brandWithProducts();
    let inner = "id";
    for (let i = 1; i < QUERY_LIMITS.maxDepth; i++) inner = i % 2 ? `paymentAttempts { ${inner} }` : `order { ${inner} }`;
    const deep = await subscribe(
      `subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { ${inner} } } }`,
      { b: brand.brandId },
      { token: brand.owner.token },
    );
    await deep.done;
    expect(deep.events[0].errors?.[0]).toMatchObject({ message: expect.stringMatching(/depth/i), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    await deep.close();
    const fields = Array.from({ length: QUERY_LIMITS.maxTokens }, () => "status").join(" ");
    const big = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { ${fields} } }`, { b: brand.brandId }, { token: brand.owner.token });
    await big.done;
    expect(big.events[0].errors?.[0].message).toMatch(/token/i);
    // An ordinary mistake is a coded validation error too, not an internal one.
    const unknown = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { nope } }`, { b: brand.brandId }, { token: brand.owner.token });
    await unknown.done;
    expect(unknown.events[0].errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    await unknown.close();
    await big.close();
  });
});

describe("mistakes over WebSocket are per subscription", () => {
  it("answers a syntax error with GRAPHQL_PARSE_FAILED and keeps the socket; refused subscriptions free their slot", async () => {
    const brand = await brandWithProducts();
    const client = createClient({
      url: wsUrl(),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${brand.owner.token}` },
      retryAttempts: 0,
      lazy: false,
    });
    let closed: number | undefined;
    client.on("closed", (e) => (closed = (e as { code?: number }).code));
    await new Promise<void>((r) => client.on("connected", () => r())); // the timer below should not pay for the handshake
    const outcome = (query: string) =>
      new Promise<{ code?: unknown; message?: string; ok?: boolean }>((resolve) => {
        const stop = client.subscribe(
          { query, variables: { b: brand.brandId } },
          {
            next: () => undefined,
            error: (e) => {
              const first = Array.isArray(e) ? e[0] : undefined;
              resolve({ code: first?.extensions?.code, message: first?.message ?? String((e as { reason?: string })?.reason) });
            },
            complete: () => undefined,
          },
        );
        // Accepted subscriptions stay open: count them as accepted after a while (refusals come
        // back within milliseconds; the margin is for a loaded CI machine).
        setTimeout(() => {
          resolve({ ok: true });
          stop();
        }, 3_000);
      });
    try {
      expect(await outcome(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { id } `)).toMatchObject({
        code: "GRAPHQL_PARSE_FAILED",
        message: expect.stringMatching(/Syntax Error/),
      });
      // More refused subscriptions than a socket may hold: none of them keeps a slot.
      // (One after the other: while refusals are in flight they do hold slots.)
      const invalid = [];
      for (let i = 0; i < 25; i++) invalid.push(await outcome(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { nope } }`));
      expect(new Set(invalid.map((o) => o.code))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
      expect(await outcome(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { order { id } } }`)).toEqual({ ok: true });
      expect(closed).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });
});

describe("operation names", () => {
  it("answers an operationName that names no operation with 400 OPERATION_RESOLUTION_FAILURE", async () => {
    const res = await fetch(`${apiUrl()}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", "x-forwarded-for": TEST_CLIENT_IP },
      body: JSON.stringify({ query: "query A { me { anonymous } }", operationName: "NoSuchOperation" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: unknown };
    expect(body.errors).toEqual([{ message: 'Unknown operation named "NoSuchOperation".', extensions: { code: "OPERATION_RESOLUTION_FAILURE" } }]);
  });
});

describe("limits that need the variables (before execution)", () => {
  it("refuses first outside 1..100 with BAD_USER_INPUT naming first, from a variable or a literal", async () => {
    const brand = await brandWithProducts();
    const query = `query Page($b: ID!, $n: Int) { orders(brandId: $b, first: $n) { totalCount } }`;
    for (const n of [101, 0, 5_000]) {
      const r = await gql(query, { b: brand.brandId, n }, { token: brand.owner.token });
      expect(r.status).toBe(400); // a request error: nothing executed
      expect(r.data).toBeUndefined();
      expect(r.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "first" } })]);
    }
    const literal = await gql(`{ myOrders(first: 101) { totalCount } }`, undefined, { token: brand.owner.token });
    expect(literal.errors?.[0].extensions).toEqual({ code: "BAD_USER_INPUT", field: "first" });
    const fine = await gql(query, { b: brand.brandId, n: 100 }, { token: brand.owner.token });
    expect(fine.status).toBe(200);
    expect(fine.data.orders.totalCount).toBe(0);
  });

  it(`refuses an operation costing more than ${QUERY_LIMITS.maxCost} with QUERY_TOO_COMPLEX before any resolver runs`, async () => {
    const user = await signUp("cost");
    // 701 each (an order's lines would add 100 × 3: a page with them is over the limit on its own).
    const page = (i: number) => `p${i}: myOrders(first: 100) { edges { node { id number status total currency } } }`;
    const expensive = `{ ${Array.from({ length: 8 }, (_, i) => page(i)).join(" ")} }`;
    const r = await gql(expensive, undefined, { token: user.token });
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: QUERY_LIMITS.maxCost });
    expect(r.errors![0].extensions!.cost).toBeGreaterThan(QUERY_LIMITS.maxCost);
    // Half of it is within the limit and runs.
    const half = await gql(`{ ${Array.from({ length: 3 }, (_, i) => page(i)).join(" ")} }`, undefined, { token: user.token });
    expect(codes(half)).toEqual([]);
    expect(half.data.p0.edges).toEqual([]);
  });
});

/** Sends only the headers and a few bytes of a POST announcing `length` bytes; resolves with the status line's code. */
function announceBody(path: string, length: number): Promise<number> {
  const { hostname, port } = new URL(apiUrl());
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${path} before the body was sent`));
    }, 5_000);
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (m) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", reject);
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nX-Forwarded-For: ${TEST_CLIENT_IP}\r\n` +
        `Content-Length: ${length}\r\n\r\n{"query":"`,
    );
  });
}

describe("request body limits", () => {
  it("answers 413 from Content-Length alone, before reading or parsing the body", async () => {
    expect(await announceBody("/graphql", 1024 * 1024 + 1)).toBe(413);
    expect(await announceBody("/webhooks/payments", 256 * 1024 + 1)).toBe(413);
  });

  it("answers 413 with a coded error to a body without Content-Length that grows past 1 MiB, and records nothing", async () => {
    const padding = "x".repeat(1024 * 1024);
    const body = JSON.stringify({ query: `mutation { signUp(input: {email: "big@example.test", password: "${padding}", name: "Big"}) { token } }` });
    // A streamed body is sent chunked (no Content-Length): the limit is applied while reading.
    const stream = new Blob([body]).stream();
    const res = await fetch(`${apiUrl()}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": TEST_CLIENT_IP },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ errors: [{ message: "request body too large", extensions: { code: "BAD_REQUEST" } }] });
    expect(await count("select 1 from users where email = 'big@example.test'")).toBe(0);
  });
});

describe("POST /graphql transport (the fast path and Express answer alike)", () => {
  const post = (body: string, contentType: string, headers: Record<string, string> = {}) =>
    fetch(`${apiUrl()}/graphql`, { method: "POST", headers: { "content-type": contentType, "x-forwarded-for": TEST_CLIENT_IP, ...headers }, body });

  it("answers a body that is not JSON (or not an object) with 400 BAD_REQUEST, and echoes a sane X-Request-Id", async () => {
    for (const body of ["{not json", '"a string"', "42"]) {
      const res = await post(body, "application/json", { "x-request-id": "client-req-12345" });
      expect(res.status, body).toBe(400);
      expect(res.headers.get("x-request-id")).toBe("client-req-12345");
      expect(await res.json()).toEqual({ errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
    }
  });

  it("gives the same answer with and without a charset, and through Express for a content type it leaves to it", async () => {
    const query = JSON.stringify({ query: "{ me { anonymous } }" });
    const fast = await post(query, "application/json");
    const withCharset = await post(query, "application/json; charset=utf-8");
    const express = await post(query, "application/json; charset=UTF-8; x=1"); // not the fast path's pattern
    for (const res of [fast, withCharset, express]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/(graphql-response\+)?json/);
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get("etag")).toBeNull();
      expect(await res.json()).toEqual({ data: { me: { anonymous: false } } });
    }
    // A simple content type is refused by CSRF prevention on both paths.
    const csrf = await post(query, "text/plain");
    expect(csrf.status).toBe(400);
  });
});

describe("found by fuzzing (tests/fuzz), each pinned here", () => {
  it("refuses a subscription over HTTP with 400 BAD_REQUEST, with or without root-field directives", async () => {
    const brand = await brandWithProducts();
    for (const q of [
      `subscription { orderStatusChanged(brandId: "${brand.brandId}") { seq } }`,
      `subscription ($b: Boolean!) { orderStatusChanged(brandId: "${brand.brandId}") @skip(if: $b) { seq } }`,
    ]) {
      const r = await gql(q, { b: false }, { token: brand.owner.token });
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([{ message: expect.stringMatching(/WebSocket/), extensions: { code: "BAD_REQUEST" } }]);
    }
  });

  it("answers automatic persisted queries with PERSISTED_QUERY_NOT_SUPPORTED", async () => {
    const res = await fetch(`${apiUrl()}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": TEST_CLIENT_IP },
      body: JSON.stringify({ query: "{ __typename }", extensions: { persistedQuery: { version: 2 } } }),
    });
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(["PERSISTED_QUERY_NOT_SUPPORTED"]);
  });

  it("applies a variable's default when it is absent, and answers null in a non-null argument with BAD_USER_INPUT", async () => {
    const brand = await brandWithProducts();
    const withDefault = await gql(`query ($id: ID! = "${brand.brandId}") { brand(id: $id) { id } }`, {});
    expect(codes(withDefault)).toEqual([]);
    expect(withDefault.data.brand.id).toBe(brand.brandId);
    const nulled = await gql(`query ($id: ID = "${brand.brandId}") { brand(id: $id) { id } }`, { id: null });
    expect(codes(nulled)).toEqual(["BAD_USER_INPUT"]);
  });

  it("over WebSocket: a bad variable is BAD_USER_INPUT, @skip on the root field is a validation error, a server-only message type closes 4400", async () => {
    const brand = await brandWithProducts();
    const badVar = await subscribe(`subscription ($b: ID!) { orderStatusChanged(brandId: $b) { seq } }`, { b: {} }, { token: brand.owner.token });
    await badVar.done;
    expect(badVar.events[0].errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    await badVar.close();
    const skipped = await subscribe(
      `subscription ($b: ID!) { orderStatusChanged(brandId: $b) @skip(if: true) { seq } }`,
      { b: brand.brandId },
      { token: brand.owner.token },
    );
    await skipped.done;
    expect(skipped.events[0].errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    await skipped.close();

    const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
    const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    socket.on("open", () => {
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${brand.owner.token}` } }));
      socket.on("message", (data) => {
        if (JSON.parse(String(data)).type === "connection_ack") socket.send(JSON.stringify({ type: "next", id: "x", payload: {} }));
      });
    });
    expect(await closed).toBe(4400);
  });
});
