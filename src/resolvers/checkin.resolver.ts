import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { Product } from "../entities";
import type { CheckInMessage } from "../pubsub/check-ins";
import { RateLimit, describeLimits } from "../rate-limit/decorator";
import { CHECK_IN } from "../rate-limit/rules";
import { BrandType, ProductType } from "../schema/types/account";
import { OrderType } from "../schema/types/order";
import { CheckInEventType, CheckInResultType, CheckInStatsType, TicketType } from "../schema/types/ticket";
import * as checkin from "../services/checkin/checkin";
import type { CheckInStatsView } from "../services/checkin/checkin";
import type { TicketView } from "../services/checkin/ticket.repository";
import type { OrderView } from "../services/order/order.repository";
import type { GraphQLContext } from "./context";

@Resolver(() => TicketType)
export class CheckInResolver {
  @Mutation(() => CheckInResultType, {
    description: `COORGANIZER+ or the brand's key. OK the first time; ALREADY_CHECKED_IN with the first scan's time; VOID for a refunded or cancelled order's ticket; UNKNOWN (no detail) for a forged, malformed or other brand's code. ${describeLimits(CHECK_IN)}`,
  })
  @RateLimit(...CHECK_IN)
  checkIn(@Ctx() ctx: GraphQLContext, @Arg("brandId", () => ID) brandId: string, @Arg("code") code: string) {
    return checkin.checkIn(ctx, brandId, code);
  }

  @Query(() => CheckInStatsType, { description: "COORGANIZER+ or the brand's key: tickets of PAID and FULFILLED orders and how many are checked in." })
  checkInStats(@Ctx() ctx: GraphQLContext, @Arg("brandId", () => ID) brandId: string) {
    return checkin.checkInStats(ctx, brandId);
  }

  @Subscription(() => CheckInEventType, {
    description:
      "Every check-in (OK) of the brand's tickets with the counts after it, from any API instance, once it commits (COORGANIZER+ or the brand's key).",
    subscribe: ({ args, context }) => checkin.watchCheckIns(context as GraphQLContext, args.brandId),
  })
  checkInsChanged(@Ctx() ctx: GraphQLContext, @Root() m: CheckInMessage, @Arg("brandId", () => ID) _brandId: string) {
    return checkin.checkInEvent(ctx, m);
  }

  @FieldResolver(() => OrderType)
  order(@Ctx() ctx: GraphQLContext, @Root() ticket: TicketView) {
    return ctx.loaders.order.load(ticket.orderId);
  }

  @FieldResolver(() => ProductType)
  product(@Ctx() ctx: GraphQLContext, @Root() ticket: TicketView) {
    return ctx.em.getReference(Product, ticket.productId, { wrapped: true }).load({ dataloader: true });
  }
}

@Resolver(() => CheckInStatsType)
export class CheckInStatsFieldsResolver {
  @FieldResolver(() => BrandType)
  brand(@Ctx() ctx: GraphQLContext, @Root() stats: CheckInStatsView) {
    return ctx.loaders.brand.load(stats.brandId);
  }
}

@Resolver(() => OrderType)
export class OrderTicketsResolver {
  @Directive("@auth(requires: USER)")
  @FieldResolver(() => [TicketType], {
    description: "One per admitted person, written when the order is paid (none before). The order's owner and COORGANIZER+ of the brand only. At most 100.",
  })
  tickets(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return ctx.loaders.ticketsOfOrder.load(order.id);
  }
}
