import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Subscription } from "type-graphql";
import { failedPrecondition } from "../errors";
import { CreateDiscountInput, RegisterFanInput, UpdateDiscountInput } from "../schema/inputs";
import { ActivateFanPayload, DiscountConnection, DiscountObject, FanConnection, FanType, RegisterFanPayload } from "../schema/types/loyalty";
import { OrderStatusEventType } from "../schema/types/order";
import type { GraphQLContext } from "./context";

/**
 * Contract fields whose features are scheduled in later issues (#4 loyalty, #5 subscriptions). They are in the schema now because clients code against the contract;
 * until their issue lands they answer FAILED_PRECONDITION ("Not available yet (issue #N)").
 * Each moves to its own resolver file when it is built.
 */
const later = (issue: number) => {
  throw failedPrecondition(`Not available yet (issue #${issue})`);
};

@Resolver()
export class UpcomingResolver {
  @Query(() => DiscountObject, { nullable: true })
  discount(@Arg("id", () => ID) _id: string): DiscountObject {
    return later(4);
  }

  @Query(() => DiscountConnection)
  discounts(
    @Arg("brandId", () => ID) _brandId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) _first: number,
    @Arg("after", () => String, { nullable: true }) _after: string | null,
  ): DiscountConnection {
    return later(4);
  }

  @Query(() => FanType, { nullable: true })
  fan(@Arg("id", () => ID) _id: string): FanType {
    return later(4);
  }

  @Query(() => FanConnection)
  fans(
    @Arg("brandId", () => ID) _brandId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) _first: number,
    @Arg("after", () => String, { nullable: true }) _after: string | null,
  ): FanConnection {
    return later(4);
  }

  @Mutation(() => DiscountObject)
  createDiscount(@Arg("input", () => CreateDiscountInput) _input: CreateDiscountInput): DiscountObject {
    return later(4);
  }

  @Mutation(() => DiscountObject)
  updateDiscount(@Arg("id", () => ID) _id: string, @Arg("input", () => UpdateDiscountInput) _input: UpdateDiscountInput): DiscountObject {
    return later(4);
  }

  @Mutation(() => Boolean)
  deleteDiscount(@Arg("id", () => ID) _id: string): boolean {
    return later(4);
  }

  @Mutation(() => RegisterFanPayload)
  registerFan(@Arg("input", () => RegisterFanInput) _input: RegisterFanInput): RegisterFanPayload {
    return later(4);
  }

  @Mutation(() => ActivateFanPayload)
  activateFan(@Arg("token", () => String) _token: string): ActivateFanPayload {
    return later(4);
  }

  @Subscription(() => OrderStatusEventType, { subscribe: () => later(5) })
  orderStatusChanged(@Ctx() _ctx: GraphQLContext, @Arg("brandId", () => ID) _brandId: string): OrderStatusEventType {
    return later(5);
  }

  @Subscription(() => OrderStatusEventType, { subscribe: () => later(5) })
  myOrderStatusChanged(@Ctx() _ctx: GraphQLContext, @Arg("orderId", () => ID) _orderId: string): OrderStatusEventType {
    return later(5);
  }
}
