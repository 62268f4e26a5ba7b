import { describe, expect, it } from "vitest";
import { AttemptToPayDocument, GetOrderDocument, MyOrdersDocument, SignUpDocument } from "../graphql/generated";
import { apiUrl, count, gql, ok, uniqueEmail } from "../helpers/api";
import { anonymous, brandWithProducts, eventId, PASSWORD, placeOrder, sendWebhook, signUp } from "../helpers/fixtures";

describe("the order flow", () => {
  it("an anonymous customer orders, pays through the provider and sees the order PAID with its snapshot", async () => {
    const brand = await brandWithProducts();
    const customer = await anonymous();

    const order = await placeOrder(brand, customer.token);
    expect(order.status).toBe("PENDING");
    expect(order.number).toMatch(/^OL-[2-9A-HJKMNP-Z]{6}$/);
    expect(order.subtotal).toBe(2 * 1250 + 400);
    expect(order.total).toBe(2900);
    expect(order.discountTotal).toBe(0);
    expect(order.currency).toBe("EUR");
    expect(order.buyer).toEqual({ name: "Ada Buyer", email: "ada@example.test" });
    expect(order.lines).toEqual([
      { productId: brand.products[0].id, productName: "Product 1", unitPrice: 1250, quantity: 2, total: 2500 },
      { productId: brand.products[1].id, productName: "Product 2", unitPrice: 400, quantity: 1, total: 400 },
    ]);
    expect(order.events).toEqual([expect.objectContaining({ from: null, to: "PENDING", actor: expect.stringMatching(/^anonymous:/) })]);
    expect(new Date(order.expiresAt).getTime() - new Date(order.createdAt).getTime()).toBe(30 * 60_000);

    const { attemptToPayForOrder: attempt } = await ok(AttemptToPayDocument, { orderId: order.id }, { token: customer.token });
    expect(attempt).toMatchObject({ status: "CREATED", amount: 2900, currency: "EUR", order: { id: order.id } });
    expect(attempt.externalId).toMatch(/^cs_dev_/);
    expect(attempt.checkoutUrl).toMatch(new RegExp(`/dev/checkout/${attempt.externalId}$`));

    const hook = await sendWebhook({ id: eventId(), data: { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: 2900, currency: "EUR" } });
    expect(hook.status).toBe(200);
    expect(hook.body).toMatchObject({ received: true, duplicate: false, outcome: "applied: order PAID" });

    const { order: paid } = await ok(GetOrderDocument, { id: order.id }, { token: customer.token });
    expect(paid!.status).toBe("PAID");
    expect(paid!.paidAt).toBeTruthy();
    expect(paid!.lines).toEqual(order.lines);
    expect(paid!.paymentAttempts).toEqual([expect.objectContaining({ externalId: attempt.externalId, status: "PAID", flagged: false })]);
    expect(paid!.events.map((e) => [e.from, e.to, e.actor])).toEqual([
      [null, "PENDING", expect.stringMatching(/^anonymous:/)],
      ["PENDING", "PAID", "payment-provider"],
    ]);
    expect(await count("select 1 from orders where id = $1 and snapshot is not null", [order.id])).toBe(1);
  });

  it("a logged-in customer's order is listed in myOrders and can be paid through the development checkout page", async () => {
    const brand = await brandWithProducts();
    const customer = await signUp("customer");
    const order = await placeOrder(brand, customer.token);
    const { attemptToPayForOrder: attempt } = await ok(AttemptToPayDocument, { orderId: order.id }, { token: customer.token });

    // checkoutUrl is built on PUBLIC_URL; the test talks to the process's own address.
    const base = new URL(attempt.checkoutUrl!).pathname;
    const html = await (await fetch(`${apiUrl()}${base}`)).text();
    expect(html).toContain(order.number);
    expect(html).toContain("29.00 EUR");
    const pay = await fetch(`${apiUrl()}${base}/pay`, { method: "POST", redirect: "manual" });
    expect(pay.status).toBe(303);

    const { myOrders } = await ok(MyOrdersDocument, { first: 10 }, { token: customer.token });
    expect(myOrders.totalCount).toBe(1);
    expect(myOrders.edges[0].node).toMatchObject({ id: order.id, status: "PAID" });
  });

  it("signing up with an anonymous session's token keeps that session's orders", async () => {
    const brand = await brandWithProducts();
    const session = await anonymous();
    const order = await placeOrder(brand, session.token);
    const email = uniqueEmail("claimer");
    const { signUp: account } = await ok(SignUpDocument, { input: { email, password: PASSWORD } }, { token: session.token });
    const { myOrders } = await ok(MyOrdersDocument, {}, { token: account.token });
    expect(myOrders.edges.map((e) => e.node.id)).toEqual([order.id]);
    // The anonymous token no longer works once the session became an account.
    const stale = await gql(MyOrdersDocument, {}, { token: session.token });
    expect(stale.status).toBe(401);
    expect(stale.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("turns one anonymous session into exactly one account under concurrent sign-ups", async () => {
    const brand = await brandWithProducts();
    const session = await anonymous();
    const order = await placeOrder(brand, session.token);
    const emails = Array.from({ length: 5 }, () => uniqueEmail("race"));
    const results = await Promise.all(emails.map((email) => gql(SignUpDocument, { input: { email, password: PASSWORD } }, { token: session.token })));
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === "UNAUTHENTICATED")).toHaveLength(4);
    expect(await count("select 1 from users where lower(email) = any($1)", [emails])).toBe(1);
    const { myOrders } = await ok(MyOrdersDocument, {}, { token: won[0].data!.signUp.token });
    expect(myOrders.edges.map((e) => e.node.id)).toEqual([order.id]);
  });
});
