import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Directive, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { OrderStatus } from "../entities";
import { CreateOrderInput, IDEMPOTENCY_KEY_DESCRIPTION, OrderFilter } from "../schema/inputs";
import { BrandType } from "../schema/types/account";
import { BuyerType, OrderConnection, OrderEventType, OrderType, PaymentAttemptType } from "../schema/types/order";
import { InvoiceType } from "../schema/types/invoice";
import * as fulfilment from "../services/fulfilment/fulfilment";
import * as orders from "../services/order/orders";
import * as search from "../services/order/search";
import type { AttemptView, OrderView } from "../services/order/order.repository";
import * as payments from "../services/payment/payments";
import { checkoutUrl } from "../services/payment/provider";
import { selectedFields } from "../schema/selection";
import { RateLimit } from "../rate-limit/decorator";
import { ATTEMPT_TO_PAY, CREATE_ORDER } from "../rate-limit/rules";
import type { GraphQLContext } from "./context";

/** Order fields that the read model can fetch in the same statement as the orders. */
const includesOf = (fields: Set<string>) => ({ attempts: fields.has("paymentAttempts"), events: fields.has("events") });

@Resolver(() => OrderType)
export class OrderResolver {
  @Query(() => OrderType, { nullable: true, description: "The order's customer, COORGANIZER+ of its brand or the brand's key; NOT_FOUND for anyone else." })
  order(@Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo, @Arg("id", () => ID) id: string) {
    return orders.getOrder(ctx, id, includesOf(selectedFields(info, [])));
  }

  @Query(() => OrderConnection, { description: "A brand's orders, newest first (COORGANIZER+ or the brand's key). `first` is 1..100." })
  orders(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("status", () => [OrderStatus], { nullable: true }) status: OrderStatus[] | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Info() info: GraphQLResolveInfo,
  ) {
    return orders.listBrandOrders(ctx, { brandId, status, first, after }, includesOf(selectedFields(info, ["edges", "node"])));
  }

  @Query(() => OrderConnection, {
    description:
      "A brand's orders matching a search, newest first (COORGANIZER+ or the brand's key); `first` is 1..100. totalCount is exact up to 1,000 and reads 1,001 for more than 1,000.",
  })
  searchOrders(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("filter", () => OrderFilter) filter: OrderFilter,
    @Arg("status", () => [OrderStatus], { nullable: true }) status: OrderStatus[] | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Info() info: GraphQLResolveInfo,
  ) {
    return search.searchOrders(ctx, { brandId, filter, status, first, after }, includesOf(selectedFields(info, ["edges", "node"])));
  }

  @Query(() => OrderConnection, { description: "The caller's own orders (account or anonymous session), newest first." })
  myOrders(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Info() info: GraphQLResolveInfo,
  ) {
    return orders.listMyOrders(ctx, { first, after }, includesOf(selectedFields(info, ["edges", "node"])));
  }

  @Mutation(() => OrderType, {
    description:
      "Signed in (account or anonymous session) or the brand's key. Totals in minor units. At most 60 per 10 minutes per account or session, 600 per brand API key, 300 per client IP (IPv6 by /64; not for keys), and 60 orders with a couponCode per 30 minutes per client IP. A customer holds at most 1 use of a code in PENDING orders; every unusable code gets one message (staff of the brand see the reason), and 10 unusable codes per 10 minutes per caller or 30 per client IP make further codes RATE_LIMITED.",
  })
  @RateLimit(...CREATE_ORDER)
  createOrder(@Ctx() ctx: GraphQLContext, @Arg("input", () => CreateOrderInput) input: CreateOrderInput) {
    return orders.createOrder(ctx, input);
  }

  @Mutation(() => OrderType, { description: "The customer or COORGANIZER+; PENDING orders only." })
  cancelOrder(@Ctx() ctx: GraphQLContext, @Arg("orderId", () => ID) orderId: string) {
    return orders.cancelOrder(ctx, orderId);
  }

  @Mutation(() => OrderType, { description: "COORGANIZER+: PAID → FULFILLED; an already fulfilled order is returned unchanged." })
  fulfillOrder(@Ctx() ctx: GraphQLContext, @Arg("orderId", () => ID) orderId: string) {
    return fulfilment.fulfillOrder(ctx, orderId);
  }

  @Mutation(() => PaymentAttemptType, {
    description:
      "Starts a payment with the provider for a PENDING order; pay at `checkoutUrl`. At most 60 per 10 minutes per account or session, 600 per brand API key, 300 per client IP (IPv6 by /64; not for keys).",
  })
  @RateLimit(...ATTEMPT_TO_PAY)
  attemptToPayForOrder(
    @Ctx() ctx: GraphQLContext,
    @Arg("orderId", () => ID) orderId: string,
    @Arg("idempotencyKey", () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey?: string | null,
  ) {
    return payments.attemptToPayForOrder(ctx, orderId, idempotencyKey);
  }

  @Query(() => PaymentAttemptType, { nullable: true })
  paymentAttempt(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return payments.getPaymentAttempt(ctx, id);
  }

  @FieldResolver(() => BrandType)
  brand(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return ctx.loaders.brand.load(order.brandId);
  }

  @FieldResolver(() => BuyerType)
  buyer(@Root() order: OrderView): BuyerType {
    return { name: order.buyerName, email: order.buyerEmail };
  }

  @FieldResolver(() => [PaymentAttemptType], { description: "Oldest first. At most 20 (attemptToPayForOrder refuses more)." })
  paymentAttempts(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return orders.orderPaymentAttempts(ctx, order);
  }

  @Directive("@auth(requires: USER)")
  @FieldResolver(() => [InvoiceType], {
    description: "The order's owner and COORGANIZER+ of the brand only: the invoice (once paid), then one credit note per successful refund. At most 51.",
  })
  invoices(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return orders.orderInvoices(ctx, order);
  }

  @FieldResolver(() => [OrderEventType], {
    description: "Its status history, oldest first: at most 5 (created, EXPIRED or CANCELLED, a late PAID, FULFILLED, REFUNDED).",
  })
  events(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return orders.orderEvents(ctx, order);
  }
}

@Resolver(() => PaymentAttemptType)
export class PaymentAttemptFieldsResolver {
  @FieldResolver(() => OrderType)
  order(@Ctx() ctx: GraphQLContext, @Root() attempt: AttemptView) {
    return ctx.loaders.order.load(attempt.orderId);
  }

  @FieldResolver(() => String, { nullable: true, description: "Where the customer pays (the development provider's page locally)." })
  checkoutUrl(@Ctx() ctx: GraphQLContext, @Root() attempt: AttemptView) {
    return checkoutUrl(ctx.config, attempt.externalId);
  }
}
