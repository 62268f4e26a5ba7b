import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Refund } from "../entities";
import { OrderType } from "../schema/types/order";
import { RefundOrderInput, RefundType } from "../schema/types/refund";
import type { OrderView } from "../services/order/order.repository";
import * as refunds from "../services/refund/refunds";
import type { GraphQLContext } from "./context";

@Resolver(() => RefundType)
export class RefundResolver {
  @Query(() => RefundType, { nullable: true, description: "COORGANIZER+ of the order's brand, its key and the order's owner; NOT_FOUND for anyone else." })
  refund(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return refunds.getRefund(ctx, id);
  }

  @Mutation(() => RefundType, {
    description:
      "ORGANIZER+ or the brand's key, on a PAID or FULFILLED order: a PENDING refund of `amount` (default: all that remains; more is BAD_USER_INPUT on input.amount), paid back by the provider. At most 50 per order.",
  })
  refundOrder(@Ctx() ctx: GraphQLContext, @Arg("input", () => RefundOrderInput) input: RefundOrderInput) {
    return refunds.refundOrder(ctx, input);
  }

  @FieldResolver(() => OrderType)
  order(@Ctx() ctx: GraphQLContext, @Root() refund: Refund) {
    return ctx.loaders.order.load(refund.order.id);
  }
}

@Resolver(() => OrderType)
export class OrderRefundsResolver {
  @Directive("@auth(requires: USER)")
  @FieldResolver(() => [RefundType], {
    description: "The order's owner and COORGANIZER+ of the brand only. Oldest first; at most 70 (50 refunds, 20 automatic).",
  })
  refunds(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return refunds.orderRefunds(ctx, order.id);
  }
}
