import { inject } from "vitest";
import {
  AddBrandMemberDocument,
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
import { apiUrl, ok, uniqueEmail } from "./api";

export const PASSWORD = "correct horse battery staple";

export interface Account {
  token: string;
  userId: string;
  email: string;
}

export async function signUp(prefix = "user"): Promise<Account> {
  const email = uniqueEmail(prefix);
  const { signUp } = await ok(SignUpDocument, { input: { email, password: PASSWORD, name: prefix } });
  return { token: signUp.token, userId: signUp.user!.id, email };
}

export async function anonymous(): Promise<{ token: string }> {
  const { startAnonymousSession } = await ok(StartAnonymousSessionDocument);
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
  const { createBrand } = await ok(CreateBrandDocument, { input: { name: `Brand ${owner.email}`, currency } }, { token: owner.token });
  const products = [];
  for (const [i, unitPrice] of prices.entries()) {
    const { createProduct } = await ok(
      CreateProductDocument,
      { input: { brandId: createBrand.id, name: `Product ${i + 1}`, unitPrice } },
      { token: owner.token },
    );
    products.push({ id: createProduct.id, unitPrice, name: createProduct.name });
  }
  return { brandId: createBrand.id, currency, owner, products, webhookSecret: createBrand.webhookSecret! };
}

export async function member(brand: BrandSetup, role: BrandRole): Promise<Account> {
  const account = await signUp(role.toLowerCase());
  await ok(AddBrandMemberDocument, { brandId: brand.brandId, email: account.email, role }, { token: brand.owner.token });
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
  opts: { signature?: string | null; timestamp?: number; secret?: string } = {},
): Promise<{ status: number; body: any }> {
  const body = typeof event === "string" ? event : JSON.stringify({ type: "payment_attempt.updated", ...event });
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = opts.signature === undefined ? signPayload(opts.secret ?? inject("webhookSecret"), body, opts.timestamp) : opts.signature;
  if (signature !== null) headers["payment-signature"] = signature;
  const res = await fetch(`${apiUrl()}/webhooks/payments`, { method: "POST", headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

let eventSeq = 0;
export const eventId = () => `evt_test_${process.pid}_${Date.now()}_${eventSeq++}`;
