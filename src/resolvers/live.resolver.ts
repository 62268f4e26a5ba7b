import { Arg, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { OrderStatusMessage } from "../pubsub/order-events";
import { OrderStatusEventType } from "../schema/types/order";
import * as live from "../services/order/live";
import type { GraphQLContext } from "./context";

/** Subscriptions travel over graphql-ws on the same path as HTTP (`/graphql`); see src/http/ws.ts. */
@Resolver()
export class LiveResolver {
  @Subscription(() => OrderStatusEventType, {
    description:
      "Every new order (previousStatus null, seq 0) and every status change of the brand's orders, after it commits, from any API instance (COORGANIZER+ or the brand's key).",
    subscribe: ({ args, context }) => live.watchBrand(context as GraphQLContext, args.brandId),
  })
  orderStatusChanged(@Ctx() ctx: GraphQLContext, @Root() m: OrderStatusMessage, @Arg("brandId", () => ID) _brandId: string) {
    return live.statusEvent(ctx, m);
  }

  @Subscription(() => OrderStatusEventType, {
    description: "Status changes of one order, for its customer.",
    subscribe: ({ args, context }) => live.watchMyOrder(context as GraphQLContext, args.orderId),
  })
  myOrderStatusChanged(@Ctx() ctx: GraphQLContext, @Root() m: OrderStatusMessage, @Arg("orderId", () => ID) _orderId: string) {
    return live.statusEvent(ctx, m);
  }
}
