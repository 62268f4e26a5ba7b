/**
 * `npm run seed`: loads demo data into the database the API uses (DATABASE_URL, or the embedded
 * PostgreSQL under DATA_DIR/pg), after applying pending migrations.
 *
 * Everything is created through the services (src/services/**), the same code the GraphQL
 * resolvers and the payment webhook call, so the business rules hold for demo data too. The only
 * direct writes are the two things no API offers: making the admin account ADMIN, and moving one
 * order's deadline into the past so it can expire now instead of in ORDER_TTL_MINUTES.
 *
 * Running it again is safe: when the demo owner's account already exists it prints the logins
 * and exits 0 without writing anything. It can run while `npm start` uses the same DATA_DIR (it
 * shares that embedded PostgreSQL).
 */
import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/postgresql";
import { randomUUID } from "node:crypto";
import { loadConfigOrExit, type Config } from "../config/env";
import { openDatabase, type Database } from "../db/database";
import { Brand, BrandMember, BrandRole, Discount, DiscountType, Order, OrderStatus, PaymentAttemptStatus, Product, User } from "../entities";
import { initLogger } from "../logger";
import { findAccountByEmail, signUp } from "../services/auth/accounts";
import { resolveViewer, type Viewer } from "../services/auth/viewer";
import { addBrandMember, createApiKey, createBrand, createProduct } from "../services/brand/brands";
import type { Sql } from "../db/sql";
import type { ServiceContext } from "../services/context";
import { createLoaders } from "../services/loaders";
import { fulfillOrder } from "../services/fulfilment/fulfilment";
import { cancelOrder, createOrder, expireDueOrders, type CreateOrderData } from "../services/order/orders";
import { applyPaymentEvent, attemptToPayForOrder } from "../services/payment/payments";
import { checkoutUrl } from "../services/payment/provider";
import { createDiscount } from "../services/loyalty/discounts";
import { registerFan } from "../services/loyalty/fans";

export const DEMO_BRAND = { name: "Demo Festival", currency: "EUR" };

/** Fixed, printed, for local demos only (the seed refuses to run with NODE_ENV=production). */
export const DEMO_ACCOUNTS = [
  { key: "admin", email: "admin@orderline.test", password: "admin-demo-pass", name: "Ada Admin", role: "ADMIN (platform)" },
  { key: "owner", email: "owner@demo-festival.test", password: "owner-demo-pass", name: "Olga Owner", role: "OWNER of Demo Festival" },
  { key: "organizer", email: "organizer@demo-festival.test", password: "organizer-demo-pass", name: "Otto Organizer", role: "ORGANIZER of Demo Festival" },
  {
    key: "coorganizer",
    email: "coorganizer@demo-festival.test",
    password: "coorganizer-demo-pass",
    name: "Cora Coorganizer",
    role: "COORGANIZER of Demo Festival",
  },
  { key: "customer", email: "customer@example.test", password: "customer-demo-pass", name: "Carl Customer", role: "customer (places the demo orders)" },
] as const;
type AccountKey = (typeof DEMO_ACCOUNTS)[number]["key"];

const PRODUCTS = [
  { name: "Weekend pass", unitPrice: 8900 },
  { name: "Saturday day ticket", unitPrice: 4900 },
  { name: "Camping spot", unitPrice: 3500 },
  { name: "Festival T-shirt", unitPrice: 2500 },
];

interface Seeded {
  brandId: string;
  apiKey: string | null;
  orders: { status: OrderStatus; number: string; id: string; note: string }[];
  pendingCheckoutUrl: string | null;
}

async function main() {
  const config = loadConfigOrExit();
  if (config.nodeEnv === "production") {
    console.error("Refusing to seed with NODE_ENV=production: the demo accounts have published passwords.");
    process.exit(2);
  }
  // Keep the output to the summary below; LOG_LEVEL=info or debug shows what happens underneath.
  initLogger(process.env.LOG_LEVEL || "warn");

  let db: Database | undefined;
  try {
    db = await openDatabase(config);
    const orm = db.orm;
    console.log(`Database: ${db.kind === "embedded" ? `embedded PostgreSQL in ${config.dataDir}/pg` : "DATABASE_URL"}; migrations applied.`);

    const owner = DEMO_ACCOUNTS.find((a) => a.key === "owner")!;
    if (await findAccountByEmail(orm.em.fork(), owner.email)) {
      console.log(`\nDemo data is already there (${owner.email} exists); nothing was written.`);
      await printExisting(orm, config);
    } else {
      const seeded = await seed(orm, db.readPool, config);
      printSummary(config, seeded);
    }
  } finally {
    await db?.close();
  }
}

async function seed(orm: MikroORM, readPool: Sql, config: Config): Promise<Seeded> {
  // One EntityManager fork per service call, like one per GraphQL request.
  const ctx = (viewer: Viewer): ServiceContext => {
    const em = orm.em.fork();
    return { em, viewer, config, sql: readPool, loaders: createLoaders(em, readPool) };
  };
  // Viewers come from the real credentials, resolved the way the HTTP layer resolves them.
  const asToken = (token: string) => resolveViewer(orm.em.fork(), config.authSecret, { authorization: `Bearer ${token}` });
  const asApiKey = (key: string) => resolveViewer(orm.em.fork(), config.authSecret, { apiKey: key });
  const nobody: Viewer = { kind: "none" };

  // Accounts.
  const tokens = {} as Record<AccountKey, string>;
  const ids = {} as Record<AccountKey, string>;
  for (const a of DEMO_ACCOUNTS) {
    const { token, user } = await signUp(ctx(nobody), { email: a.email, password: a.password, name: a.name });
    tokens[a.key] = token;
    ids[a.key] = user!.id;
  }
  // There is no API to make an ADMIN (on purpose): set the flag directly.
  await orm.em.fork().nativeUpdate(User, { id: ids.admin }, { isAdmin: true });

  // The brand, its members, products and API key.
  const brand = await createBrand(ctx(await asToken(tokens.owner)), DEMO_BRAND);
  const ownerViewer = await asToken(tokens.owner); // now with the OWNER role in the new brand
  // Members are added by the platform ADMIN (addBrandMember is ADMIN-only; owners invite instead).
  const adminViewer = await asToken(tokens.admin);
  await addBrandMember(ctx(adminViewer), brand.id, emailOf("organizer"), BrandRole.ORGANIZER);
  await addBrandMember(ctx(adminViewer), brand.id, emailOf("coorganizer"), BrandRole.COORGANIZER);
  const products: Product[] = [];
  for (const p of PRODUCTS) products.push(await createProduct(ctx(ownerViewer), { brandId: brand.id, ...p }));
  const { secret: apiKey } = await createApiKey(ctx(ownerViewer), brand.id);

  // Orders, one in every status.
  const customer = await asToken(tokens.customer);
  const coorganizer = await asToken(tokens.coorganizer);
  const buyer = { name: nameOf("customer"), email: emailOf("customer") };
  const input = (lines: [number, number][], extra: Partial<CreateOrderData> = {}): CreateOrderData => ({
    brandId: brand.id,
    lines: lines.map(([i, quantity]) => ({ productId: products[i].id, quantity })),
    buyer,
    ...extra,
  });
  const pay = async (orderId: string) => {
    const attempt = await attemptToPayForOrder(ctx(customer), orderId);
    // What the provider's webhook would deliver for this attempt (the dev checkout's Pay button
    // sends the same event, signed, to /webhooks/payments).
    const result = await applyPaymentEvent(orm.em.fork(), {
      id: `evt_seed_${randomUUID()}`,
      type: "payment_attempt.updated",
      data: { attemptExternalId: attempt.externalId, status: PaymentAttemptStatus.PAID, totalAmount: attempt.amount, currency: attempt.currency },
    });
    if (!("outcome" in result) || result.outcome !== "applied: order PAID") throw new Error(`payment was not applied: ${JSON.stringify(result)}`);
  };
  const orders: Seeded["orders"] = [];

  const pending = await createOrder(ctx(customer), input([[0, 2]], { attendees: [{ name: "Pia Partner", email: "pia@example.test" }] }));
  // An open checkout session, so the payment flow can be clicked through right away.
  const pendingAttempt = await attemptToPayForOrder(ctx(customer), pending.id);
  orders.push({ status: OrderStatus.PENDING, number: pending.number, id: pending.id, note: `open checkout; expires ${pending.expiresAt.toISOString()}` });

  const paid = await createOrder(
    ctx(customer),
    input([
      [1, 1],
      [3, 2],
    ]),
  );
  await pay(paid.id);
  orders.push({ status: OrderStatus.PAID, number: paid.number, id: paid.id, note: "paid through a PAID payment event" });

  const fulfilled = await createOrder(
    ctx(customer),
    input([
      [0, 1],
      [2, 1],
    ]),
  );
  await pay(fulfilled.id);
  await fulfillOrder(ctx(coorganizer), fulfilled.id);
  orders.push({ status: OrderStatus.FULFILLED, number: fulfilled.number, id: fulfilled.id, note: "paid, then fulfilled by the coorganizer" });

  const cancelled = await createOrder(ctx(customer), input([[1, 2]]));
  await cancelOrder(ctx(customer), cancelled.id);
  orders.push({ status: OrderStatus.CANCELLED, number: cancelled.number, id: cancelled.id, note: "cancelled by the customer" });

  // Placed server-to-server with the brand's API key (no customer account).
  const expired = await createOrder(ctx(await asApiKey(apiKey)), input([[3, 1]], { buyer: { name: "Walk-in Buyer", email: "walk-in@example.test" } }));
  // An order expires ORDER_TTL_MINUTES after creation (30 by default), which is too long to wait
  // for here. So this one SQL update moves its deadline into the past (the only way to make an
  // order overdue; no API changes expires_at), and expireDueOrders, the function the server's
  // sweeper runs every 15 s, then makes the transition and records the order event as usual.
  await orm.em.fork().execute(`update orders set expires_at = now() - interval '1 second' where id = ? and status = 'PENDING'`, [expired.id]);
  await expireDueOrders(orm.em.fork());
  orders.push({ status: OrderStatus.EXPIRED, number: expired.number, id: expired.id, note: "placed with the API key, left unpaid past its deadline" });

  // Check the result from the database: every order in the status it was meant to reach.
  const stored = await orm.em.fork().find(Order, { brand: brand.id });
  for (const o of orders) {
    const actual = stored.find((s) => s.id === o.id)?.status;
    if (actual !== o.status) throw new Error(`order ${o.number} is ${actual}, expected ${o.status}`);
  }

  // A discount with a shared code, and a fan who received it (no email verification).
  const organizerViewer = await asToken(tokens.organizer);
  await createDiscount(ctx(organizerViewer), {
    brandId: brand.id,
    name: "Fan club: 10 % off",
    description: "For everyone on the mailing list",
    type: DiscountType.PERCENT,
    amount: 10,
    usageLimit: 100,
    fixedCode: DEMO_CODE,
  });
  const discount = await orm.em.fork().findOneOrFail(Discount, { brand: brand.id, fixedCode: DEMO_CODE });
  await registerFan(ctx(nobody), { discountId: discount.id, name: "Fiona Fan", email: "fan@example.test" });

  return { brandId: brand.id, apiKey, orders, pendingCheckoutUrl: checkoutUrl(config, pendingAttempt.externalId) };
}

/** The demo discount's shared code; redeem it with createOrder(input: { couponCode }). */
export const DEMO_CODE = "FANS-10";

/**
 * The process that runs the PostgreSQL server in `dir` (its parent), when one is alive: null when
 * there is none, when the server is an orphan left by a killed process (startEmbeddedPostgres
 * stops those), or when this cannot be told (no /proc).
 */
function emailOf(key: AccountKey) {
  return DEMO_ACCOUNTS.find((a) => a.key === key)!.email;
}
function nameOf(key: AccountKey) {
  return DEMO_ACCOUNTS.find((a) => a.key === key)!.name;
}

/** A second run: read what is there (nothing is written) and print it. */
async function printExisting(orm: MikroORM, config: Config) {
  const em = orm.em.fork();
  const owner = await findAccountByEmail(em, emailOf("owner"));
  const membership = owner ? await em.findOne(BrandMember, { user: owner.id, role: BrandRole.OWNER }, { populate: ["brand"] }) : null;
  const brand = membership ? (membership.brand.getEntity() as Brand) : null;
  const rows: { status: OrderStatus; n: string | number }[] = brand
    ? await em.execute("select status, count(*) as n from orders where brand_id = ? group by status", [brand.id])
    : [];
  printLogins();
  console.log("");
  if (brand) {
    console.log(`Brand: ${brand.name} (${brand.currency}), id ${brand.id}`);
    const counts = Object.values(OrderStatus).map((s) => `${s} ${rows.find((r) => r.status === s)?.n ?? 0}`);
    console.log(`Orders by status: ${counts.join(", ")}`);
  } else {
    console.log("The demo owner has no brand: an earlier seed stopped half-way. Use a fresh DATA_DIR (or database) and seed again.");
  }
  console.log("API key: printed by the first seed only (just its hash is stored). Make another with the owner's token:");
  console.log(`  mutation { createApiKey(brandId: "${brand?.id ?? "<brand id>"}") { id secret } }`);
  printOpen(config, null);
}

function printSummary(config: Config, s: Seeded) {
  console.log("\nDemo data created.\n");
  printLogins();
  console.log(`\nBrand: ${DEMO_BRAND.name} (${DEMO_BRAND.currency}), id ${s.brandId}, ${PRODUCTS.length} products`);
  console.log(`Brand API key (shown once; send as X-API-Key): ${s.apiKey}`);
  console.log(`Discount code (10 % off, 100 uses; one fan, fan@example.test, holds it): ${DEMO_CODE}`);
  console.log("\nOrders:");
  table(
    ["Status", "Number", "Id", "How"],
    s.orders.map((o) => [o.status, o.number, o.id, o.note]),
  );
  printOpen(config, s.pendingCheckoutUrl);
}

function printLogins() {
  console.log("Logins (logIn(email, password) returns a Bearer token):");
  table(
    ["Email", "Password", "Role"],
    DEMO_ACCOUNTS.map((a) => [a.email, a.password, a.role]),
  );
}

function printOpen(config: Config, pendingCheckoutUrl: string | null) {
  console.log(`\nStart the API with \`npm start\`, then:`);
  console.log(`  GraphQL endpoint (POST): ${config.publicUrl}/graphql`);
  if (pendingCheckoutUrl) {
    console.log(`  Pay the PENDING order in the development checkout: ${pendingCheckoutUrl}`);
  }
}

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd()}`;
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}

main().catch((err) => {
  console.error("Seeding failed:", err);
  process.exit(1);
});
