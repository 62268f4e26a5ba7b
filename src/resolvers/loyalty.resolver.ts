import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Coupon, Discount, Fan, WebhookDelivery } from "../entities";
import { RateLimit, perArg, perIp } from "../rate-limit/decorator";
import { CreateDiscountInput, RegisterFanInput, UpdateDiscountInput } from "../schema/inputs";
import { BrandType } from "../schema/types/account";
import {
  ActivateFanPayload,
  CouponDeliveryType,
  CouponType,
  DELIVERY_ERROR_TEXT,
  DeliveryAttemptType,
  DiscountConnection,
  DiscountObject,
  FanConnection,
  FanType,
  RegisterFanPayload,
} from "../schema/types/loyalty";
import * as discounts from "../services/loyalty/discounts";
import * as fans from "../services/loyalty/fans";
import * as loyalty from "../services/loyalty/read";
import type { GraphQLContext } from "./context";

@Resolver(() => DiscountObject)
export class DiscountResolver {
  @Query(() => DiscountObject, { nullable: true, description: "ORGANIZER+ of its brand or the brand's key; NOT_FOUND for others and for deleted discounts." })
  discount(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return discounts.getDiscount(ctx, id);
  }

  @Query(() => DiscountConnection, { description: "A brand's live discounts, newest first (ORGANIZER+ or the brand's key)." })
  discounts(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ) {
    return discounts.listDiscounts(ctx, { brandId, first, after });
  }

  @Mutation(() => DiscountObject, { description: "ORGANIZER+ or the brand's key. fixedCode: 4..32 of A-Z, 0-9, -; unique per brand ignoring case." })
  createDiscount(@Ctx() ctx: GraphQLContext, @Arg("input", () => CreateDiscountInput) input: CreateDiscountInput) {
    return discounts.createDiscount(ctx, input);
  }

  @Mutation(() => DiscountObject, { description: "Changes the given fields; the type and fixedCode cannot change." })
  updateDiscount(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string, @Arg("input", () => UpdateDiscountInput) input: UpdateDiscountInput) {
    return discounts.updateDiscount(ctx, id, input);
  }

  @Mutation(() => Boolean, { description: "Its codes stop working at once; its history (fans, coupons, orders) is kept." })
  deleteDiscount(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return discounts.deleteDiscount(ctx, id);
  }

  @FieldResolver(() => BrandType)
  brand(@Root() discount: Discount) {
    return discount.brand.load({ dataloader: true });
  }
}

@Resolver(() => FanType)
export class FanResolver {
  @Query(() => FanType, { nullable: true, description: "ORGANIZER+ of the fan's brand (or its key)." })
  fan(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return fans.getFan(ctx, id);
  }

  @Query(() => FanConnection, { description: "A brand's fans, newest first (ORGANIZER+ or the brand's key)." })
  fans(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ) {
    return fans.listFans(ctx, { brandId, first, after });
  }

  @Mutation(() => RegisterFanPayload, {
    description:
      "Public (or the brand's key). The same answer whether the email is new, waiting for verification or active. Registering again while unverified emails a fresh link (the earlier one stops working), at most 3 verification emails per hour per email and discount. At most 30 per minute per client IP and 5 per hour per email.",
  })
  @RateLimit({ scope: "ip", per: perIp, max: 30, window: "1m" }, { scope: "email", per: perArg("input.email"), max: 5, window: "1h" })
  registerFan(@Ctx() ctx: GraphQLContext, @Arg("input", () => RegisterFanInput) input: RegisterFanInput) {
    return fans.registerFan(ctx, input);
  }

  @Mutation(() => ActivateFanPayload, {
    description: "What following the emailed link does, for SPAs: NOT_FOUND for an unknown token, FAILED_PRECONDITION when used or expired.",
  })
  @RateLimit({ scope: "ip", per: perIp, max: 30, window: "1m" })
  activateFan(@Ctx() ctx: GraphQLContext, @Arg("token", () => String) token: string) {
    return fans.activateFanMutation(ctx, token);
  }

  @FieldResolver(() => BrandType)
  brand(@Root() fan: Fan) {
    return fan.brand.load({ dataloader: true });
  }

  @FieldResolver(() => CouponType, { nullable: true })
  coupon(@Root() fan: Fan) {
    return fan.coupon ? fan.coupon.load({ dataloader: true }) : null;
  }

  @FieldResolver(() => [CouponDeliveryType], { description: "Pushes of this fan's coupon to the brand's shop (at most one: a fan gets one coupon)." })
  couponDeliveries(@Ctx() ctx: GraphQLContext, @Root() fan: Fan) {
    return loyalty.fanDeliveries(ctx, fan.id);
  }
}

@Resolver(() => CouponType)
export class CouponFieldsResolver {
  @FieldResolver(() => Int, { description: "The discount's uses per coupon." })
  async usageLimit(@Root() coupon: Coupon) {
    return (await coupon.discount.loadOrFail({ dataloader: true })).usageLimit;
  }

  @FieldResolver(() => DiscountObject)
  discount(@Root() coupon: Coupon) {
    return coupon.discount.load({ dataloader: true });
  }
}

@Resolver(() => CouponDeliveryType)
export class CouponDeliveryFieldsResolver {
  @FieldResolver(() => [DeliveryAttemptType], { description: "The newest 10 tries, oldest first (`attempts` counts them all)." })
  tries(@Ctx() ctx: GraphQLContext, @Root() delivery: WebhookDelivery) {
    return loyalty.deliveryTries(ctx, delivery.id);
  }

  @FieldResolver(() => String, { nullable: true, description: `The last try's error. ${DELIVERY_ERROR_TEXT}` })
  lastError(@Root() delivery: WebhookDelivery) {
    return loyalty.deliveryLastError(delivery);
  }
}
