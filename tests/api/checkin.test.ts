import { createHmac } from "node:crypto";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { count, db, gql, ok } from "../helpers/api";
import {
  brandWithProducts,
  eventId,
  member,
  payOrder,
  placeOrder,
  sendWebhook,
  signUp,
  startPayment,
  type Account,
  type BrandSetup,
} from "../helpers/fixtures";
import { startApi, TEST_AUTH_SECRET, type ApiProcess } from "../helpers/processes";
import { subscribe } from "../helpers/ws";
import { eventually } from "../helpers/mail";
import { CheckInDocument, CheckInStatsDocument, OrderTicketsDocument } from "../graphql/generated";

/**
 * Tickets and check-in (issue #12): tickets written when an order is paid, with the codes its PDF
 * prints; checkIn's four outcomes; exactly one OK of 20 concurrent scans over two API processes;
 * who reads tickets and codes; checkInStats and checkInsChanged over a real graphql-ws client.
 */

let brand: BrandSetup;
let other: BrandSetup;
let coorganizer: Account;
let buyer: Account;
let second: ApiProcess | undefined;

const ATTENDEES = [
  { name: "Ana Door", email: "ana@example.test" },
  { name: "Ben Door", email: "ben@example.test" },
  { name: "Cleo Door", email: "cleo@example.test" },
];

const TICKETS = OrderTicketsDocument;
const CHECK_IN = print(CheckInDocument); // untyped answers: the tests compare whole bodies
const STATS = CheckInStatsDocument;

/** The code the tickets PDF prints (services/confirmation/tickets.ts), computed here with the run's secret. */
const printedCode = (order: { id: string; number: string }, index: number, secret = TEST_AUTH_SECRET) =>
  `${order.number}-${index}-${createHmac("sha256", secret).update(`ticket:${order.id}:${index}`).digest("base64url").slice(0, 10)}`;

async function paidOrder(b = brand, token = buyer.token, attendees = ATTENDEES) {
  const order = await placeOrder(b, token, { attendees });
  await payOrder(order, token);
  return order as { id: string; number: string; total: number; currency: string };
}

async function ticketsOf(orderId: string, token: string) {
  return (await ok(TICKETS, { id: orderId }, { token })).order!.tickets;
}

const scan = (code: string, auth: { token?: string; apiKey?: string; api?: string } = { token: coorganizer.token }, brandId = brand.brandId) =>
  gql(CHECK_IN, { brandId, code }, auth);

beforeAll(async () => {
  [brand, other, buyer] = await Promise.all([brandWithProducts("EUR", [1000, 400]), brandWithProducts(), signUp("door-buyer")]);
  coorganizer = await member(brand, "COORGANIZER");
}, 60_000);

afterAll(async () => {
  await second?.stop(); // by PID
});

describe("stored tickets", () => {
  it("a paid order has one ticket per attendee, with the PDF's codes and the lines' products in order; an unpaid one none", async () => {
    const pending = await placeOrder(brand, buyer.token, { attendees: ATTENDEES });
    expect(await ticketsOf(pending.id, buyer.token)).toEqual([]);

    const order = await paidOrder();
    const tickets = await ticketsOf(order.id, buyer.token);
    expect(tickets.map((t) => t.holderName)).toEqual(ATTENDEES.map((a) => a.name));
    expect(tickets.map((t) => t.code)).toEqual([1, 2, 3].map((i) => printedCode(order, i)));
    // The default lines: product 1 × 2, then product 2 × 1: holders take the units in order.
    expect(tickets.map((t) => t.product.id)).toEqual([brand.products[0].id, brand.products[0].id, brand.products[1].id]);
    expect(tickets.every((t) => t.status === "VALID" && t.checkedInAt === null)).toBe(true);
    expect(await count("select 1 from ticket where order_id = $1", [order.id])).toBe(3);
  });

  it("an order without attendees has the buyer's one ticket; a late payment of a cancelled order writes its tickets too", async () => {
    const order = await placeOrder(brand, buyer.token, { attendees: [] });
    const attempt = await startPayment(order.id, buyer.token);
    await ok(`mutation ($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: order.id }, { token: buyer.token });
    const hook = await sendWebhook({
      id: eventId(),
      data: { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: order.total, currency: order.currency },
    });
    expect(hook.body?.outcome).toBe("applied: order PAID (late payment honoured)");
    const tickets = await ticketsOf(order.id, buyer.token);
    expect(tickets.map((t) => [t.holderName, t.code])).toEqual([["Ada Buyer", printedCode(order, 1)]]);
  });

  it("the owner and COORGANIZER+ read tickets and codes; another customer and anonymous callers get NOT_FOUND", async () => {
    const order = await paidOrder();
    const asStaff = await ticketsOf(order.id, coorganizer.token);
    expect(asStaff.map((t) => t.code)).toEqual([1, 2, 3].map((i) => printedCode(order, i)));
    expect(asStaff.map((t) => t.code)).toEqual((await ticketsOf(order.id, buyer.token)).map((t) => t.code));
    const stranger = await signUp("stranger");
    const r = await gql(TICKETS, { id: order.id }, { token: stranger.token });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect(JSON.stringify(r.body)).not.toContain(printedCode(order, 1));
    const anon = await gql(TICKETS, { id: order.id });
    expect(anon.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});

describe("checkIn", () => {
  it("OK the first time, then ALREADY_CHECKED_IN with the first scan's time; the ticket shows CHECKED_IN", async () => {
    const order = await paidOrder();
    const code = printedCode(order, 2);
    const first = await scan(code);
    expect(first.errors).toBeUndefined();
    expect(first.data.checkIn.outcome).toBe("OK");
    expect(first.data.checkIn.ticket).toMatchObject({ holderName: "Ben Door", status: "CHECKED_IN" });
    const again = await scan(code);
    expect(again.data.checkIn).toMatchObject({ outcome: "ALREADY_CHECKED_IN", checkedInAt: first.data.checkIn.checkedInAt });
    const tickets = await ticketsOf(order.id, buyer.token);
    expect(tickets.map((t) => t.status)).toEqual(["VALID", "CHECKED_IN", "VALID"]);
    expect(tickets[1].checkedInAt).toBe(first.data.checkIn.checkedInAt);
  });

  it("VOID for the ticket of a refunded order, checked in or not", async () => {
    const order = await paidOrder();
    expect((await scan(printedCode(order, 1))).data.checkIn.outcome).toBe("OK");
    // A full refund (the development provider pays it back in-process) makes the order REFUNDED.
    await ok(`mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { id } }`, { input: { orderId: order.id } }, { token: brand.owner.token });
    await eventually(async () => expect(await count("select 1 from orders where id = $1 and status = 'REFUNDED'", [order.id])).toBe(1));
    const scanned = await scan(printedCode(order, 1));
    const fresh = await scan(printedCode(order, 3));
    expect(scanned.data.checkIn).toMatchObject({ outcome: "VOID", ticket: { holderName: "Ana Door", status: "VOID" } });
    expect(fresh.data.checkIn).toMatchObject({ outcome: "VOID", checkedInAt: null, ticket: { holderName: "Cleo Door", status: "VOID" } });
    expect(await count("select 1 from ticket where order_id = $1 and checked_in_at is not null", [order.id])).toBe(1);
  });

  it("UNKNOWN, the same answer, for a forged code, another brand's real code, a malformed and an over-long code", async () => {
    const mine = await paidOrder();
    const theirs = await paidOrder(other, buyer.token);
    const answers = await Promise.all(
      [printedCode(mine, 1, "not-the-secret"), printedCode(theirs, 1), `${mine.number}-1-`, "x".repeat(101), "   ", "' or 1=1 --"].map((c) => scan(c)),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual({ data: { checkIn: { outcome: "UNKNOWN", checkedInAt: null, ticket: null } } });
    }
    // Another brand's code stays valid for its own brand.
    expect((await scan(printedCode(theirs, 1), { token: other.owner.token }, other.brandId)).data.checkIn.outcome).toBe("OK");
  });

  it("outsiders get NOT_FOUND and nothing is checked in", async () => {
    const order = await paidOrder();
    const r = await scan(printedCode(order, 1), { token: buyer.token });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect(await count("select 1 from ticket where order_id = $1 and checked_in_at is not null", [order.id])).toBe(0);
  });

  it("orders paid before tickets were stored get them, with the same codes, when an API process starts", async () => {
    const order = await paidOrder();
    const codes = (await ticketsOf(order.id, buyer.token)).map((t) => t.code);
    await db().query("delete from ticket where order_id = $1", [order.id]); // as before Migration20261205200000
    expect(await ticketsOf(order.id, buyer.token)).toEqual([]);
    second ??= await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false", TRUST_PROXY: "loopback" }); // backfills before it is ready
    expect((await ticketsOf(order.id, buyer.token)).map((t) => t.code)).toEqual(codes);
  }, 60_000);

  it("20 concurrent scans of one code spread over two API processes: exactly one OK and 19 ALREADY_CHECKED_IN with its time", async () => {
    second ??= await startApi({ DATABASE_URL: inject("databaseUrl"), RUN_WORKER: "false", TRUST_PROXY: "loopback" });
    const order = await paidOrder();
    const code = printedCode(order, 1);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => scan(code, { token: coorganizer.token, api: i % 2 ? second!.url : undefined })));
    const outcomes = answers.map((a) => a.data?.checkIn?.outcome ?? JSON.stringify(a.errors));
    expect(outcomes.filter((o) => o === "OK")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "ALREADY_CHECKED_IN")).toHaveLength(19);
    const times = new Set(answers.map((a) => a.data.checkIn.checkedInAt));
    expect(times.size).toBe(1);
    expect(await count("select 1 from ticket where code = $1 and checked_in_at is not null", [code])).toBe(1);
  }, 60_000);
});

describe("the door screen", () => {
  it("checkInStats counts the tickets of paid orders, and checkInsChanged tells a subscriber of each check-in with the new counts", async () => {
    const door = await brandWithProducts("EUR", [500, 300]);
    const staff = await member(door, "COORGANIZER");
    const order = await paidOrder(door, buyer.token, ATTENDEES.slice(0, 2));
    await placeOrder(door, buyer.token, { attendees: ATTENDEES }); // unpaid: no tickets, not counted
    expect((await ok(STATS, { brandId: door.brandId }, { token: staff.token })).checkInStats).toEqual({
      tickets: 2,
      checkedIn: 0,
      brand: { id: door.brandId },
    });

    const live = await subscribe(
      `subscription ($brandId: ID!) { checkInsChanged(brandId: $brandId) { at ticket { holderName code status } stats { tickets checkedIn } } }`,
      { brandId: door.brandId },
      { token: staff.token },
    );
    try {
      expect((await scan(printedCode(order, 2), { token: staff.token }, door.brandId)).data.checkIn.outcome).toBe("OK");
      expect((await scan(printedCode(order, 2), { token: staff.token }, door.brandId)).data.checkIn.outcome).toBe("ALREADY_CHECKED_IN");
      for (let i = 0; i < 300 && live.events.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
      expect(live.events).toHaveLength(1); // the second scan checked nothing in: no event
      expect(live.events[0].data?.checkInsChanged).toMatchObject({
        ticket: { holderName: "Ben Door", code: printedCode(order, 2), status: "CHECKED_IN" },
        stats: { tickets: 2, checkedIn: 1 },
      });
    } finally {
      await live.close();
    }
    expect((await ok(STATS, { brandId: door.brandId }, { token: staff.token })).checkInStats).toMatchObject({ tickets: 2, checkedIn: 1 });
  });

  it("outsiders cannot subscribe (NOT_FOUND)", async () => {
    const live = await subscribe(
      `subscription ($brandId: ID!) { checkInsChanged(brandId: $brandId) { at } }`,
      { brandId: brand.brandId },
      { token: buyer.token },
    );
    await live.done;
    expect(JSON.stringify(live.events)).toContain("NOT_FOUND");
    await live.close();
  });
});
