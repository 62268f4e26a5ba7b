import { EmailKind, OrderStatus } from "../../entities";
import { failedPrecondition } from "../../errors";
import { actorOf } from "../auth/viewer";
import { Permission } from "../access/permissions";
import { queueEmail } from "../../email/queue";
import type { ServiceContext } from "../context";
import { requireOrder } from "../order/access";
import { transition } from "../order/status";
import { orderView, type OrderView } from "../order/order.repository";

/**
 * COORGANIZER+: PAID → FULFILLED with fulfilledAt = now, an order event and one "your order is
 * ready" email to the buyer, in one transaction. Already FULFILLED: returned unchanged (the date is
 * never overwritten, no second email). Other statuses: FAILED_PRECONDITION. The row lock makes
 * concurrent calls fulfil once.
 */
export async function fulfillOrder(ctx: ServiceContext, orderId: string): Promise<OrderView> {
  const fulfilled = await ctx.em.transactional(async (tx) => {
    const order = await requireOrder(tx, ctx.viewer, Permission.ORDER_FULFIL, orderId, true);
    if (order.status === OrderStatus.FULFILLED) return order;
    if (order.status !== OrderStatus.PAID) throw failedPrecondition(`Only a PAID order can be fulfilled; this one is ${order.status}`);
    await transition(tx, order, OrderStatus.FULFILLED, actorOf(ctx.viewer));
    await queueEmail(tx, { order }, EmailKind.ORDER_READY, order.buyerEmail);
    return order;
  });
  return orderView(fulfilled);
}
