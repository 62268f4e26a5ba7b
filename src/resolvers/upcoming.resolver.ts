import { Arg, Ctx, ID, Resolver, Subscription } from "type-graphql";
import { failedPrecondition } from "../errors";
import { OrderStatusEventType } from "../schema/types/order";
import type { GraphQLContext } from "./context";

/**
 * Contract fields whose feature is scheduled in a later issue (#5 subscriptions). They are in the
 * schema now because clients code against the contract; until the issue lands, subscribing answers
 * FAILED_PRECONDITION ("Not available yet (issue #5)"). Moves to its own resolver when built.
 */
const later = (issue: number) => {
  throw failedPrecondition(`Not available yet (issue #${issue})`);
};

@Resolver()
export class UpcomingResolver {
  @Subscription(() => OrderStatusEventType, { subscribe: () => later(5) })
  orderStatusChanged(@Ctx() _ctx: GraphQLContext, @Arg("brandId", () => ID) _brandId: string): OrderStatusEventType {
    return later(5);
  }

  @Subscription(() => OrderStatusEventType, { subscribe: () => later(5) })
  myOrderStatusChanged(@Ctx() _ctx: GraphQLContext, @Arg("orderId", () => ID) _orderId: string): OrderStatusEventType {
    return later(5);
  }
}
