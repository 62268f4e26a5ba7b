import { inject } from "vitest";
import {
  AddBrandMemberDocument,
  AttemptToPayDocument,
  CreateApiKeyDocument,
  CreateBrandDocument,
  CreateOrderDocument,
  CreateProductDocument,
  SignUpDocument,
  StartAnonymousSessionDocument,
  type BrandRole,
  type CreateOrderInput,
} from "../graphql/generated";
import { signPayload } from "../../src/services/payment/signature";
import { apiUrl, db, ok, testClientIp, uniqueEmail } from "./api";

export const PASSWORD = "correct horse battery staple";

export interface Account {
  token: string;
  userId: string;
  email: string;
}

export async function signUp(prefix = "user"): Promise<Account> {
  const email = uniqueEmail(prefix);
  // Each from its own address: set-up must not spend the test file's per-IP sign-up budget.
  const { signUp } = await ok(SignUpDocument, { input: { email, password: PASSWORD, name: prefix } }, { headers: { "x-forwarded-for": testClientIp() } });
  return { token: signUp.token, userId: signUp.user!.id, email };
}

export async function anonymous(): Promise<{ token: string }> {
  const { startAnonymousSession } = await ok(StartAnonymousSessionDocument, {}, { headers: { "x-forwarded-for": testClientIp() } });
  return { token: startAnonymousSession.token };
}

export interface BrandSetup {
  brandId: string;
  currency: string;
  owner: Account;
  products: { id: string; unitPrice: number; name: string }[];
  webhookSecret: string;
}

/** A brand owned by a new account, with two products (12.50 and 4.00 in EUR by default). */
export async function brandWithProducts(currency = "EUR", prices = [1250, 400]): Promise<BrandSetup> {
  const owner = await signUp("owner");
  // From an address of its own, like signUp: set-up must not spend the test file's per-IP budgets.
  const setup = { token: owner.token, headers: { "x-forwarded-for": testClientIp() } };
  const { createBrand } = await ok(CreateBrandDocument, { input: { name: `Brand ${owner.email}`, currency } }, setup);
  const products = [];
  for (const [i, unitPrice] of prices.entries()) {
    const { createProduct } = await ok(CreateProductDocument, { input: { brandId: createBrand.id, name: `Product ${i + 1}`, unitPrice } }, setup);
    products.push({ id: createProduct.id, unitPrice, name: createProduct.name });
  }
  return { brandId: createBrand.id, currency, owner, products, webhookSecret: createBrand.webhookSecret! };
}

let setupAdminAccount: Promise<Account> | undefined;

/**
 * A platform ADMIN for set-up, one per test file: addBrandMember (adding someone without an
 * invitation) is ADMIN-only. invitations.test.ts covers the invitation path itself.
 */
export function setupAdmin(): Promise<Account> {
  return (setupAdminAccount ??= signUp("setup-admin").then(async (admin) => {
    await promoteToAdmin(admin);
    return admin;
  }));
}

/** A new account made a member of the brand with this role (by the set-up ADMIN). */
export async function member(brand: BrandSetup, role: BrandRole): Promise<Account> {
  const [account, admin] = await Promise.all([signUp(role.toLowerCase()), setupAdmin()]);
  await ok(AddBrandMemberDocument, { brandId: brand.brandId, email: account.email, role }, { token: admin.token });
  return account;
}

export async function apiKey(brand: BrandSetup): Promise<string> {
  const { createApiKey } = await ok(CreateApiKeyDocument, { brandId: brand.brandId }, { token: brand.owner.token });
  return createApiKey.secret;
}

export function orderInput(brand: BrandSetup, overrides: Partial<CreateOrderInput> = {}): CreateOrderInput {
  return {
    brandId: brand.brandId,
    lines: [
      { productId: brand.products[0].id, quantity: 2 },
      { productId: brand.products[1].id, quantity: 1 },
    ],
    buyer: { name: "Ada Buyer", email: "ada@example.test" },
    attendees: [{ name: "Tim Holder", email: "tim@example.test" }],
    ...overrides,
  };
}

export async function placeOrder(brand: BrandSetup, token: string, overrides: Partial<CreateOrderInput> = {}) {
  const { createOrder } = await ok(CreateOrderDocument, { input: orderInput(brand, overrides) }, { token });
  return createOrder;
}

export interface WebhookEvent {
  id: string;
  type?: string;
  data: { attemptExternalId: string; status: string; totalAmount: number; currency: string };
}

/** Sends a payment webhook, signed with the test secret unless `signature` is given. */
export async function sendWebhook(
  event: WebhookEvent | string,
  opts: { signature?: string | null; timestamp?: number; secret?: string; api?: string } = {},
): Promise<{ status: number; body: any }> {
  const body = typeof event === "string" ? event : JSON.stringify({ type: "payment_attempt.updated", ...event });
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = opts.signature === undefined ? signPayload(opts.secret ?? inject("webhookSecret"), body, opts.timestamp) : opts.signature;
  if (signature !== null) headers["payment-signature"] = signature;
  const res = await fetch(`${opts.api ?? apiUrl()}/webhooks/payments`, { method: "POST", headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

let eventSeq = 0;
export const eventId = () => `evt_test_${process.pid}_${Date.now()}_${eventSeq++}`;

// ---- payments ----------------------------------------------------------------------------------

export interface AttemptRef {
  id?: string;
  externalId: string;
  amount: number;
  currency: string;
}

/** attemptToPayForOrder as `token`; fails the test unless it succeeded. */
export async function startPayment(orderId: string, token: string) {
  const { attemptToPayForOrder } = await ok(AttemptToPayDocument, { orderId }, { token });
  return attemptToPayForOrder;
}

/** A provider event about `attempt` with a fresh event id: by default the matching PAID report. */
export function providerEvent(
  attempt: AttemptRef,
  status: "PENDING" | "PAID" | "FAILED" | "CANCELLED" = "PAID",
  overrides: Partial<WebhookEvent["data"]> & { id?: string } = {},
): WebhookEvent {
  const { id = eventId(), ...data } = overrides;
  return { id, data: { attemptExternalId: attempt.externalId, status, totalAmount: attempt.amount, currency: attempt.currency, ...data } };
}

// ---- appended for the access, validation and pagination suites -------------------------------

/**
 * Makes an account a platform ADMIN. There is deliberately no API for this (admins are made by
 * operators), so this is the one piece of state the tests set with direct SQL.
 */
export async function promoteToAdmin(account: Account): Promise<void> {
  const { rowCount } = await db().query("update users set is_admin = true where id = $1", [account.userId]);
  if (rowCount !== 1) throw new Error(`no user ${account.userId} to promote`);
}

/** Pays a PENDING order the way production does: a payment attempt, then the provider's signed PAID webhook. */
export async function payOrder(order: { id: string; total: number; currency: string }, token: string): Promise<void> {
  const { attemptToPayForOrder } = await ok(AttemptToPayDocument, { orderId: order.id }, { token });
  const hook = await sendWebhook({
    id: eventId(),
    data: { attemptExternalId: attemptToPayForOrder.externalId, status: "PAID", totalAmount: order.total, currency: order.currency },
  });
  if (hook.status !== 200 || hook.body?.outcome !== "applied: order PAID") throw new Error(`payment not applied: ${JSON.stringify(hook)}`);
}
