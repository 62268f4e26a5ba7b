import { randomUUID } from "node:crypto";
import { LockMode, ref } from "@mikro-orm/core";
import { UniqueConstraintViolationException, type EntityManager } from "@mikro-orm/postgresql";
import { Brand, Order, OrderStatus, Product, User, type Invoice, type OrderLineData, type PersonData } from "../../entities";
import { AppError, ErrorCode, InputCheck, failedPrecondition, forbidden, unauthenticated } from "../../errors";
import { actorOf, customerId } from "../auth/viewer";
import { Permission } from "../access/permissions";
import { accessible, can, requireAccess } from "../access/require";
import type { ServiceContext } from "../context";
import { decodeCursor, isUuid, pageSize, type Connection } from "../pagination";
import { orderPage, ordersByIds, orderView, type AttemptView, type EventView, type OrderIncludes, type OrderView } from "./order.repository";
import { email as checkEmail, intRange, text } from "../validation";
import { orderViewSubject, requireOrder } from "./access";
import { idempotent, type Claim } from "../idempotency";
import { newOrderNumber } from "./number";
import { isPastDue, recordCreation, transition } from "./status";
import { couponRefusedError, reserveCoupon } from "../loyalty/coupons";
import { forgive, reserveCouponTry } from "../../rate-limit/guards";
import { MAX_ORDER_TOTAL, computeTotals } from "./totals";
import { MAX_TAX_RATES_PER_ORDER, taxOfLines } from "./tax";
import { lockForRelease, planSeats, releaseHeldSeats, soldOutAtCommit, takeSeats, type SeatPlan } from "../capacity/seats";

export const MAX_LINES = 100;
export const MAX_QUANTITY = 999;
/** Named ticket holders per order (was 1,000): a page of 20 orders with their attendees fits the query cost limit. */
export const MAX_ATTENDEES = 100;

export interface CreateOrderData {
  brandId: string;
  lines: { productId: string; quantity: number }[];
  buyer: { name: string; email: string };
  attendees?: { name: string; email: string }[] | null;
  couponCode?: string | null;
  idempotencyKey?: string | null;
}

/**
 * The view of an order the caller may see; NOT_FOUND alike otherwise. `inc` (planned
 * from the query) fetches its attempts and events in the same statement.
 */
export async function getOrder(ctx: ServiceContext, id: string, inc: OrderIncludes = {}): Promise<OrderView> {
  const [order] = isUuid(id) ? await ordersByIds(ctx.sql, [id], inc) : [];
  return accessible(ctx.viewer, Permission.ORDER_READ, order ?? null, orderViewSubject);
}

/** With an idempotencyKey, the same caller gets the first order back for 24 h (src/services/idempotency.ts). */
export function createOrder(ctx: ServiceContext, input: CreateOrderData): Promise<OrderView> {
  const { idempotencyKey, ...args } = input;
  const once = { operation: "createOrder", key: idempotencyKey, field: "input.idempotencyKey", args };
  return idempotent(
    ctx,
    once,
    (id) => getOrder(ctx, id),
    (claim) => placeOrder(ctx, args, claim),
  );
}

async function placeOrder(ctx: ServiceContext, input: CreateOrderData, claim: Claim): Promise<OrderView> {
  const viewer = ctx.viewer;
  const owner = customerId(viewer);
  if (!owner && viewer.kind !== "apiKey") {
    throw unauthenticated("Sign in or start an anonymous session (startAnonymousSession) to place an order");
  }
  const { lines, buyer, attendees } = validateOrderInput(input);
  const em = ctx.em;
  const brand = isUuid(input.brandId) ? await em.findOne(Brand, input.brandId) : null;
  if (!brand) throw new AppError(ErrorCode.BAD_USER_INPUT, "input.brandId: no such brand", { field: "input.brandId" });
  if (viewer.kind === "apiKey" && viewer.brandId !== brand.id) throw forbidden("This API key acts for another brand");

  const products = await em.find(Product, { id: { $in: lines.map((l) => l.productId) }, brand: brand.id });
  const byId = new Map(products.map((p) => [p.id, p]));
  const check = new InputCheck();
  lines.forEach((l, i) => check.check(byId.has(l.productId), `input.lines[${i}].productId`, "no such product in this brand"));
  check.check(
    new Set(products.map((p) => p.taxRate)).size <= MAX_TAX_RATES_PER_ORDER,
    "input.lines",
    `must use at most ${MAX_TAX_RATES_PER_ORDER} different tax rates`,
  );
  check.throwIfAny();

  const priced = lines.map((l) => ({ product: byId.get(l.productId)!, quantity: l.quantity }));
  const plain = computeTotals(priced.map((p) => ({ unitPrice: p.product.unitPrice, quantity: p.quantity })));
  if (plain.subtotal > MAX_ORDER_TOTAL) throw new AppError(ErrorCode.BAD_USER_INPUT, "input.lines: the order total is too large", { field: "input.lines" });
  const orderLines: OrderLineData[] = priced.map((p, i) => ({
    productId: p.product.id,
    productName: p.product.name,
    unitPrice: p.product.unitPrice,
    quantity: p.quantity,
    total: plain.lineTotals[i],
    taxRate: p.product.taxRate, // the rate now: a later change of the product's rate does not touch this order
    discount: 0,
    tax: 0,
  }));
  const seats = await planSeats(em, lines); // SOLD_OUT here already when a quota is short: no transaction, no code try
  const couponCode = input.couponCode?.trim() ? input.couponCode : null;
  // Staff of the brand (COORGANIZER+, its key, ADMIN) are told why a code is refused and may hold
  // any number of its uses (a box office places orders for many buyers); customers are not.
  const staff = can(viewer, Permission.ORDER_PLACE_AS_STAFF, { brandId: brand.id });
  // A code try is counted as a failure before the code is looked at, and given back unless the
  // code turned out unusable: probing codes runs into RATE_LIMITED, exactly, also under concurrency.
  const tries = couponCode ? await reserveCouponTry(em, actorOf(viewer), ctx.clientIp ?? null) : [];
  let unusableCode = false;
  try {
    const order = await insertOrder(
      ctx,
      { brand, buyer, attendees, priced, orderLines, couponCode, holder: staff ? null : owner, staff, seats, claim },
      () => (unusableCode = true),
    );
    return orderView(order);
  } finally {
    if (!unusableCode) await forgive(em, tries);
  }
}

async function insertOrder(
  ctx: ServiceContext,
  o: {
    brand: Brand;
    buyer: PersonData;
    attendees: PersonData[];
    priced: { product: Product; quantity: number }[];
    orderLines: OrderLineData[];
    couponCode: string | null;
    holder: string | null;
    staff: boolean;
    seats: SeatPlan;
    claim: Claim;
  },
  onUnusableCode: () => void,
): Promise<Order> {
  const { brand, priced } = o;
  const owner = customerId(ctx.viewer);
  const now = new Date();
  const orderId = randomUUID(); // known before the transaction: the idempotency key is claimed for it first
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.em.transactional(async (tx) => {
        await o.claim(tx, orderId);
        // The coupon's use is reserved in this transaction: a failed insert gives it back.
        const reserved = o.couponCode ? await reserveCoupon(tx, brand.id, o.couponCode, o.holder) : null;
        if (reserved && "refused" in reserved) {
          if (reserved.refused === "unusable") onUnusableCode();
          throw couponRefusedError(reserved, o.staff);
        }
        const totals = computeTotals(
          priced.map((p) => ({ unitPrice: p.product.unitPrice, quantity: p.quantity })),
          reserved?.rule,
        );
        // The discount is known only now (the coupon's rule): spread it over the lines, then tax each.
        const taxed = taxOfLines(o.orderLines, totals.discountTotal);
        const order = new Order({
          number: newOrderNumber(),
          brand: ref(brand),
          buyer: o.buyer,
          lines: o.orderLines.map((l, i) => ({ ...l, discount: taxed[i].discount, tax: taxed[i].tax })),
          subtotal: totals.subtotal,
          total: totals.total,
          currency: brand.currency,
          expiresAt: new Date(now.getTime() + ctx.config.orderTtlMinutes * 60_000),
        });
        order.id = orderId;
        order.createdAt = now;
        order.discountTotal = totals.discountTotal;
        order.taxTotal = taxed.reduce((sum, t) => sum + t.tax, 0);
        order.attendees = o.attendees;
        order.customer = owner ? tx.getReference(User, owner, { wrapped: true }) : null;
        order.couponCode = reserved?.code ?? null;
        order.coupon = reserved ? ref(reserved.coupon) : null;
        tx.persist(order);
        await recordCreation(tx, order, actorOf(ctx.viewer));
        await takeSeats(tx, order, o.seats); // last: hold records only; the quotas are locked at commit (its trigger)
        return order;
      });
    } catch (e) {
      // The commit found a quota short (the trigger's SQLSTATE): rolled back, nothing written.
      const soldOut = await soldOutAtCommit(
        ctx.em,
        e,
        priced.map((p) => p.product.id),
      );
      if (soldOut) throw soldOut;
      // A clash of human-readable numbers: draw another (31^6 numbers; practically never twice).
      if (e instanceof UniqueConstraintViolationException && /orders_number_unique/.test(e.message) && attempt < 5) continue;
      throw e;
    }
  }
}

/** Checks the shape of an order before anything is read or written; names the offending field. */
export function validateOrderInput(input: CreateOrderData): {
  lines: { productId: string; quantity: number }[];
  buyer: PersonData;
  attendees: PersonData[];
} {
  const check = new InputCheck();
  const lines = input.lines ?? [];
  if (check.check(lines.length >= 1 && lines.length <= MAX_LINES, "input.lines", `must have 1 to ${MAX_LINES} lines`)) {
    const seen = new Set<string>();
    lines.forEach((l, i) => {
      if (check.check(isUuid(l.productId), `input.lines[${i}].productId`, "no such product in this brand")) {
        check.check(!seen.has(l.productId.toLowerCase()), `input.lines[${i}].productId`, "appears in more than one line; use the quantity");
        seen.add(l.productId.toLowerCase());
      }
      intRange(check, `input.lines[${i}].quantity`, l.quantity, 1, MAX_QUANTITY);
    });
  }
  const buyer = {
    name: text(check, "input.buyer.name", input.buyer?.name, 200),
    email: checkEmail(check, "input.buyer.email", input.buyer?.email),
  };
  const rawAttendees = input.attendees ?? [];
  const attendees: PersonData[] = [];
  if (check.check(rawAttendees.length <= MAX_ATTENDEES, "input.attendees", `must have at most ${MAX_ATTENDEES} attendees`)) {
    rawAttendees.forEach((a, i) =>
      attendees.push({
        name: text(check, `input.attendees[${i}].name`, a?.name, 200),
        email: checkEmail(check, `input.attendees[${i}].email`, a?.email),
      }),
    );
  }
  check.throwIfAny();
  return { lines: lines.map((l) => ({ productId: l.productId.toLowerCase(), quantity: l.quantity })), buyer, attendees };
}

export async function listBrandOrders(
  ctx: ServiceContext,
  args: { brandId: string; status?: OrderStatus[] | null; first?: number | null; after?: string | null },
  inc: OrderIncludes = {},
): Promise<Connection<OrderView>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const [brandId] = await requireAccess(ctx, Permission.BRAND_ORDERS_READ, [args.brandId]);
  return orderPage(ctx.sql, { brandId, statuses: args.status }, first, cursor, inc);
}

export async function listMyOrders(
  ctx: ServiceContext,
  args: { first?: number | null; after?: string | null },
  inc: OrderIncludes = {},
): Promise<Connection<OrderView>> {
  const first = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : null;
  const owner = customerId(ctx.viewer);
  if (!owner) throw unauthenticated("Sign in or use your anonymous session's token to see your orders");
  return orderPage(ctx.sql, { customerId: owner }, first, cursor, inc);
}

/** The customer who placed it or COORGANIZER+ of the brand may cancel a PENDING order. */
export async function cancelOrder(ctx: ServiceContext, orderId: string): Promise<OrderView> {
  const em = ctx.em;
  const order = await em.transactional(async (tx) => {
    const o = await requireOrder(tx, ctx.viewer, Permission.ORDER_CANCEL, orderId, true);
    if (o.status !== OrderStatus.PENDING) throw failedPrecondition(`Only a PENDING order can be cancelled; this one is ${o.status}`);
    if (isPastDue(o)) throw failedPrecondition("This order has expired");
    await transition(tx, o, OrderStatus.CANCELLED, actorOf(ctx.viewer));
    return o;
  });
  return orderView(order);
}

/** Marks PENDING orders past their time as EXPIRED (with events). Safe to run on several instances at once. */
export async function expireDueOrders(em: EntityManager, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await em.fork().transactional(async (tx) => {
      const due = await tx.find(
        Order,
        { status: OrderStatus.PENDING, expiresAt: { $lte: new Date() } },
        { limit: batch, orderBy: { expiresAt: "asc" }, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      await lockForRelease(
        tx,
        due.map((o) => o.id),
      ); // their coupons, sorted: the lock order of createOrder
      await releaseHeldSeats(tx, due); // one statement per quota, sorted: the quotas are locked at commit in that order
      for (const o of due) await transition(tx, o, OrderStatus.EXPIRED, "system");
      return due.length;
    });
    total += n;
    if (n < batch) return total;
  }
}

/** Read with the order when the query asked for them, otherwise batched per request (one query for all orders of a page). */
export function orderEvents(ctx: ServiceContext, order: OrderView): EventView[] | Promise<EventView[]> {
  return order.events ?? ctx.loaders.eventsOfOrder.load(order.id);
}

/** Batched per request: one query for the invoices of all orders of a page. */
export function orderInvoices(ctx: ServiceContext, order: OrderView): Promise<Invoice[]> {
  return ctx.loaders.invoicesOfOrder.load(order.id);
}

export function orderPaymentAttempts(ctx: ServiceContext, order: OrderView): AttemptView[] | Promise<AttemptView[]> {
  return order.attempts ?? ctx.loaders.attemptsOfOrder.load(order.id);
}
