import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import { Order, OrderStatus } from "../../src/entities";
import { transition } from "../../src/services/order/status";
import { CancelOrderDocument, FulfillOrderDocument } from "../graphql/generated";
import { db, gql, ok } from "../helpers/api";
import { anonymous, apiKey, brandWithProducts, member, payOrder, placeOrder, sendWebhook, eventId, signUp, startPayment } from "../helpers/fixtures";
import { eventually } from "../helpers/mail";
import { startApi, startSecondApi, type ApiProcess } from "../helpers/processes";
import { MY_ORDER_EVENTS, STATUS_EVENTS, rawSocket, subscribe } from "../helpers/ws";

let apiB: ApiProcess;
let orm: MikroORM;
beforeAll(async () => {
  apiB = await startSecondApi(inject("databaseUrl"));
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
});
afterAll(async () => {
  await apiB?.stop();
  await orm?.close();
});

const readyz = async (base: string) => (await fetch(`${base}/readyz`)).json() as Promise<{ sockets: number; subscriptions: number; listener: string }>;
const statuses = (events: { data?: any }[]) => events.map((e) => [e.data?.orderStatusChanged?.previousStatus, e.data?.orderStatusChanged?.status]);

describe("orderStatusChanged", () => {
  it("tells a brand member of a new order, then PAID and FULFILLED, with the order loaded fresh and consecutive sequence numbers", async () => {
    const brand = await brandWithProducts();
    const sub = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token });
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    // The event's order is read when the event goes out: take each step once the previous event is out.
    await eventually(async () => expect(statuses(sub.events)).toEqual([[null, "PENDING"]]));
    await payOrder(order, customer.token);
    await eventually(async () =>
      expect(statuses(sub.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "PAID"],
      ]),
    );
    await ok(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    await eventually(async () =>
      expect(statuses(sub.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "PAID"],
        ["PAID", "FULFILLED"],
      ]),
    );
    const [created, paid, fulfilled] = sub.events.map((e) => e.data.orderStatusChanged);
    expect(created).toMatchObject({
      previousStatus: null,
      status: "PENDING",
      seq: 0,
      order: { id: order.id, number: order.number, status: "PENDING", paidAt: null },
    });
    expect(paid.order).toMatchObject({ id: order.id, number: order.number, status: "PAID" });
    expect(paid.order.paidAt).toBeTruthy();
    expect(fulfilled.order).toMatchObject({ status: "FULFILLED", fulfilledAt: expect.any(String) });
    expect([paid.seq, fulfilled.seq]).toEqual([1, 2]);
    await sub.close();
  });

  it("says nothing for a refused change or a rolled-back transaction, and does tell of a committed one", async () => {
    const brand = await brandWithProducts();
    const sub = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token });
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);

    expect((await gql(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token })).errors?.[0].extensions?.code).toBe("FAILED_PRECONDITION");
    const attempt = await startPayment(order.id, customer.token);
    const wrongAmount = await sendWebhook({ id: eventId(), data: { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: 1, currency: "EUR" } });
    expect(wrongAmount.body.outcome).toMatch(/^flagged/);
    // The same transition the API makes, in a transaction that rolls back: NOTIFY is never delivered.
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await transition(tx, await tx.findOneOrFail(Order, order.id), OrderStatus.CANCELLED, "test");
        throw new Error("rolled back on purpose");
      }),
    ).rejects.toThrow("rolled back on purpose");

    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token }); // committed: heard
    await eventually(async () =>
      expect(statuses(sub.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "CANCELLED"],
      ]),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.events).toHaveLength(2);
    await sub.close();
  });

  it("reaches a subscriber on another API instance: the change on A is heard on B", async () => {
    const brand = await brandWithProducts();
    const onB = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token, base: apiB.url });
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token); // on A
    await payOrder(order, customer.token); // webhook on A
    await eventually(async () =>
      expect(statuses(onB.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "PAID"],
      ]),
    );
    expect(onB.events[0].data.orderStatusChanged.order.id).toBe(order.id);
    await onB.close();
  });

  it("works with the brand's API key and for a COORGANIZER; refuses customers and other brands' members", async () => {
    const brand = await brandWithProducts();
    const coorganizer = await member(brand, "COORGANIZER");
    const other = await brandWithProducts();
    const customer = await signUp("customer");
    const allowed = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: coorganizer.token });
    const viaKey = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { apiKey: await apiKey(brand) });
    for (const token of [customer.token, other.owner.token, (await anonymous()).token]) {
      const refused = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token });
      await refused.done;
      expect(refused.events.map((e) => e.errors?.[0]?.extensions?.code)).toEqual(["NOT_FOUND"]);
      await refused.close();
    }
    const order = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    await eventually(async () => expect(allowed.events).toHaveLength(2));
    await eventually(async () =>
      expect(statuses(viaKey.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "CANCELLED"],
      ]),
    );
    await allowed.close();
    await viaKey.close();
  });
});

describe("myOrderStatusChanged", () => {
  it("tells the customer about their own order and refuses another customer's", async () => {
    const brand = await brandWithProducts();
    const alice = await anonymous();
    const bob = await anonymous();
    const order = await placeOrder(brand, alice.token);
    const mine = await subscribe(MY_ORDER_EVENTS, { orderId: order.id }, { token: alice.token });
    const theirs = await subscribe(MY_ORDER_EVENTS, { orderId: order.id }, { token: bob.token });
    await theirs.done;
    expect(theirs.events.map((e) => e.errors?.[0]?.extensions?.code)).toEqual(["NOT_FOUND"]);
    await payOrder(order, alice.token);
    await eventually(async () => expect(mine.events.map((e) => e.data?.myOrderStatusChanged?.status)).toEqual(["PAID"]));
    await mine.close();
    await theirs.close();
  });
});

describe("the WebSocket itself", () => {
  it("closes with 4403 for a bad token", async () => {
    const { ws, closed, opened } = rawSocket();
    await opened;
    ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer not-a-token" } }));
    expect((await closed).code).toBe(4403);
  });

  it("closes a socket that does not initialise within 3 s (4408) and one that sends more than 64 KiB (1009)", async () => {
    const idle = rawSocket();
    const started = Date.now();
    expect((await idle.closed).code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    const big = rawSocket();
    await big.opened;
    big.ws.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(70 * 1024) } }));
    expect((await big.closed).code).toBe(1009);
  });

  it("carries subscriptions only, at most 20 per socket", async () => {
    const brand = await brandWithProducts();
    const query = await subscribe("{ me { anonymous } }", {}, { token: brand.owner.token });
    await query.done;
    expect(query.events[0].errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    await query.close();

    const sub = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token });
    const extra: Promise<string | undefined>[] = [];
    for (let i = 0; i < 20; i++) {
      extra.push(
        new Promise((resolve) =>
          sub.client.subscribe(
            { query: STATUS_EVENTS, variables: { brandId: brand.brandId } },
            {
              next: () => undefined,
              error: (e: any) => resolve(Array.isArray(e) ? e[0]?.extensions?.code : "closed"),
              complete: () => resolve(undefined),
            },
          ),
        ),
      );
    }
    // 1 + 20 requested: the 21st is refused, the others stay open.
    expect(await Promise.race([Promise.all(extra.slice(-1)), new Promise((r) => setTimeout(() => r(["pending"]), 3000))])).toEqual(["RATE_LIMITED"]);
    await sub.close();
  });

  it("leaves no subscription behind when 100 sockets subscribe and drop abruptly", async () => {
    const brand = await brandWithProducts();
    const base = apiB.url;
    const before = await readyz(base);
    // Raw sockets speaking graphql-transport-ws, so they can be cut without a close frame.
    const sockets = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const s = rawSocket(base);
        await s.opened;
        const acked = new Promise<void>((r) => s.ws.on("message", (m) => JSON.parse(m.toString()).type === "connection_ack" && r()));
        s.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${brand.owner.token}` } }));
        await acked;
        s.ws.send(JSON.stringify({ id: `s${i}`, type: "subscribe", payload: { query: STATUS_EVENTS, variables: { brandId: brand.brandId } } }));
        return s;
      }),
    );
    await eventually(async () => expect((await readyz(base)).subscriptions).toBe(before.subscriptions + 100));
    expect((await readyz(base)).sockets).toBe(before.sockets + 100);
    for (const s of sockets) s.ws.terminate(); // TCP reset, no close handshake: a crashed client
    await eventually(async () => {
      const now = await readyz(base);
      expect(now.subscriptions).toBe(before.subscriptions);
      expect(now.sockets).toBe(before.sockets);
    });
  });
});

describe("the LISTEN connection", () => {
  it("reconnects by itself after it drops, /readyz reports it up again, and subscriptions resume", async () => {
    const brand = await brandWithProducts();
    const sub = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token, base: apiB.url });
    // Only B's LISTEN connection (named with its process id): other API processes on the database
    // (other test files' on a machine that runs files in parallel) keep theirs.
    const name = `orderline-listener ${apiB.pid}`;
    const { rows } = await db().query<{ pid: number }>(
      "select pid, pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = $1 and datname = current_database()",
      [name],
    );
    expect(rows).toHaveLength(1);
    // pg_terminate_backend does not wait, and B notices the loss only when its socket errors:
    // /readyz alone could still be reading the old connection. Wait until the killed backend is
    // gone and a new one has run LISTEN, then for B to report it.
    const killed = rows[0].pid;
    await eventually(async () => {
      const { rows: now } = await db().query<{ pid: number; state: string; query: string }>(
        "select pid, state, query from pg_stat_activity where application_name = $1 and datname = current_database()",
        [name],
      );
      expect(now.map((r) => r.pid === killed)).toEqual([false]);
      expect(now[0]).toMatchObject({ state: "idle", query: expect.stringMatching(/^LISTEN/) });
    }, 10_000);
    await eventually(async () => expect((await readyz(apiB.url)).listener).toBe("up"), 10_000);
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    await eventually(async () =>
      expect(statuses(sub.events)).toEqual([
        [null, "PENDING"],
        ["PENDING", "CANCELLED"],
      ]),
    );
    await sub.close();
  });
});

describe("shutting down", () => {
  it("closes open sockets with 1001", async () => {
    const api = await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false" });
    try {
      const s = rawSocket(api.url);
      await s.opened;
      s.ws.send(JSON.stringify({ type: "connection_init", payload: {} }));
      await new Promise((r) => s.ws.once("message", r));
      await api.stop();
      expect((await s.closed).code).toBe(1001);
    } finally {
      await api.stop();
    }
  });
});

describe("one execution per event, operation and viewer", () => {
  // Order.brand.webhookSecret is @auth(requires: OWNER): the owner reads it, a COORGANIZER and the
  // brand's API key (ORGANIZER) get FORBIDDEN for that field and the rest of the event.
  const WITH_SECRET = `subscription ($brandId: ID!) {
    orderStatusChanged(brandId: $brandId) { status seq order { id status brand { id webhookSecret } } }
  }`;

  it("gives subscribers with the same token the same result, and each other viewer its own permission outcome", async () => {
    const brand = await brandWithProducts();
    const coorganizer = await member(brand, "COORGANIZER");
    const key = await apiKey(brand);
    const ownerA = await subscribe(WITH_SECRET, { brandId: brand.brandId }, { token: brand.owner.token });
    const ownerB = await subscribe(WITH_SECRET, { brandId: brand.brandId }, { token: brand.owner.token });
    const ownerOtherDocument = await subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token });
    const coorg = await subscribe(WITH_SECRET, { brandId: brand.brandId }, { token: coorganizer.token });
    const viaKey = await subscribe(WITH_SECRET, { brandId: brand.brandId }, { apiKey: key });
    // Subscribed first, then sharing the instance with the owner's: still refused at subscribe time.
    const outsider = await subscribe(WITH_SECRET, { brandId: brand.brandId }, { token: (await signUp("outsider")).token });
    await outsider.done;
    expect(outsider.events.map((e) => e.errors?.[0]?.extensions?.code)).toEqual(["NOT_FOUND"]);

    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    await ok(CancelOrderDocument, { orderId: order.id }, { token: customer.token });
    const all = [ownerA, ownerB, ownerOtherDocument, coorg, viaKey];
    await eventually(async () => expect(all.map((s) => s.events.length)).toEqual([2, 2, 2, 2, 2])); // the new order, then its cancellation
    const cancelled = (s: (typeof all)[number]) => s.events[1];

    // The owner's two subscriptions: the full event, the secret included, no errors.
    for (const s of [ownerA, ownerB]) {
      expect(cancelled(s).errors).toBeUndefined();
      expect(cancelled(s).data.orderStatusChanged).toMatchObject({
        status: "CANCELLED",
        order: { id: order.id, status: "CANCELLED", brand: { id: brand.brandId, webhookSecret: brand.webhookSecret } },
      });
    }
    expect(ownerB.events).toEqual(ownerA.events);
    expect(cancelled(ownerOtherDocument).data.orderStatusChanged).toMatchObject({
      previousStatus: "PENDING",
      status: "CANCELLED",
      order: { id: order.id, number: order.number },
    });

    // Other viewers on the same document: their own execution, the secret refused to each.
    for (const s of [coorg, viaKey]) {
      expect(cancelled(s).errors?.map((e) => [e.extensions?.code, (e as { path?: unknown }).path])).toEqual([
        ["FORBIDDEN", ["orderStatusChanged", "order", "brand", "webhookSecret"]],
      ]);
      expect(cancelled(s).data.orderStatusChanged).toMatchObject({
        status: "CANCELLED",
        order: { id: order.id, brand: { id: brand.brandId, webhookSecret: null } },
      });
    }
    for (const s of [...all, outsider]) await s.close();
  });

  it("delivers every event in order to subscribers sharing executions, on both instances", async () => {
    const brand = await brandWithProducts();
    const subs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        subscribe(STATUS_EVENTS, { brandId: brand.brandId }, { token: brand.owner.token, base: i % 2 ? apiB.url : undefined }),
      ),
    );
    const customer = await anonymous();
    const order = await placeOrder(brand, customer.token);
    await payOrder(order, customer.token);
    await ok(FulfillOrderDocument, { orderId: order.id }, { token: brand.owner.token });
    for (const s of subs)
      await eventually(async () =>
        expect(statuses(s.events)).toEqual([
          [null, "PENDING"],
          ["PENDING", "PAID"],
          ["PAID", "FULFILLED"],
        ]),
      );
    const seqs = subs.map((s) => s.events.map((e) => e.data.orderStatusChanged.seq));
    expect(new Set(seqs.map((s) => s.join(",")))).toEqual(new Set(["0,1,2"]));
    for (const s of subs) await s.close();
  });
});
