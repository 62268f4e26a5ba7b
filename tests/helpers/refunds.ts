import { CreateBrandDocument, CreateProductDocument, SignUpDocument } from "../graphql/generated";
import { ok, testClientIp, uniqueEmail, type Auth } from "./api";
import { eventId, PASSWORD, sendWebhook } from "./fixtures";
import { CREATE_QUOTA } from "./quotas";

// Issue #11: refunds. Documents and a small world on any API process (the run's, or one a test
// started with PAYMENT_PROVIDER_URL pointing at tests/helpers/fake-provider.ts).

export const REFUND_ORDER = `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { id amount currency status source reason externalId order { id } } }`;
export const ORDER_REFUNDS = `query ($id: ID!) { order(id: $id) { id status total refundedTotal refundedAt events { from to actor }
  refunds { id amount currency status source reason externalId } paymentAttempts { externalId status flagged } } }`;
export const GET_REFUND = `query ($id: ID!) { refund(id: $id) { id amount status source externalId order { id status refundedTotal } } }`;
const CREATE_ORDER = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id total currency status } }`;
const ATTEMPT = `mutation ($orderId: ID!) { attemptToPayForOrder(orderId: $orderId) { id externalId amount currency } }`;
const QUOTA = `query ($id: ID!) { quota(id: $id) { id size sold held available } }`;

export interface RefundWorld {
  api?: string;
  owner: Auth;
  brandId: string;
  productId: string;
  quotaId: string;
}

/** An owner, a brand with one product of 29.00 EUR limited by a quota of `seats`, on `api` (default: the run's API). */
export async function refundWorld(api?: string, seats = 100): Promise<RefundWorld> {
  const at = { api, headers: { "x-forwarded-for": testClientIp() } };
  const { signUp } = await ok(SignUpDocument, { input: { email: uniqueEmail("refund-owner"), password: PASSWORD, name: "Owner" } }, at);
  const owner = { ...at, token: signUp.token };
  const { createBrand } = await ok(CreateBrandDocument, { input: { name: "Refund Fest", currency: "EUR" } }, owner);
  const { createProduct } = await ok(CreateProductDocument, { input: { brandId: createBrand.id, name: "Pass", unitPrice: 2900 } }, owner);
  const { createQuota } = await ok(CREATE_QUOTA, { input: { brandId: createBrand.id, name: "Hall", size: seats, productIds: [createProduct.id] } }, owner);
  return { api, owner, brandId: createBrand.id, productId: createProduct.id, quotaId: createQuota.id };
}

/** A PENDING order of one seat (29.00 EUR) by the owner, with a fresh buyer address, and a payment attempt. */
export async function orderWithAttempt(w: RefundWorld) {
  const buyer = uniqueEmail("refund-buyer");
  const input = { brandId: w.brandId, lines: [{ productId: w.productId, quantity: 1 }], buyer: { name: "Rita Buyer", email: buyer } };
  const { createOrder: order } = await ok(CREATE_ORDER, { input }, w.owner);
  const { attemptToPayForOrder: attempt } = await ok(ATTEMPT, { orderId: order.id }, w.owner);
  return { order: order as { id: string; total: number; currency: string }, attempt, buyer };
}

/** The provider's signed PAID report of an attempt; its outcome string. */
export async function reportPaid(w: RefundWorld, attempt: { externalId: string; amount: number; currency: string }): Promise<string> {
  const data = { attemptExternalId: attempt.externalId, status: "PAID", totalAmount: attempt.amount, currency: attempt.currency };
  const hook = await sendWebhook({ id: eventId(), data }, { api: w.api });
  if (hook.status !== 200) throw new Error(`payment webhook answered ${hook.status}: ${JSON.stringify(hook.body)}`);
  return hook.body.outcome;
}

/** A PAID order of one seat (see orderWithAttempt). */
export async function paidOrder(w: RefundWorld) {
  const o = await orderWithAttempt(w);
  const outcome = await reportPaid(w, o.attempt);
  if (outcome !== "applied: order PAID") throw new Error(`not paid: ${outcome}`);
  return o;
}

export async function orderState(w: RefundWorld, orderId: string) {
  return (await ok(ORDER_REFUNDS, { id: orderId }, w.owner)).order;
}

export async function quotaSold(w: RefundWorld): Promise<{ sold: number; held: number; available: number }> {
  return (await ok(QUOTA, { id: w.quotaId }, w.owner)).quota;
}
