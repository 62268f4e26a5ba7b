import type { NonEmptyArray } from "type-graphql";
import { AuthResolver, UserFieldsResolver } from "./auth.resolver";
import { BrandMemberFieldsResolver, BrandResolver, ProductFieldsResolver } from "./brand.resolver";
import { OrderResolver, PaymentAttemptFieldsResolver } from "./order.resolver";
import { ConfirmationResolver } from "./confirmation.resolver";
import { CouponDeliveryFieldsResolver, CouponFieldsResolver, DiscountResolver, FanResolver } from "./loyalty.resolver";
import { LiveResolver } from "./live.resolver";

export const RESOLVERS: NonEmptyArray<Function> = [
  AuthResolver,
  UserFieldsResolver,
  BrandResolver,
  BrandMemberFieldsResolver,
  ProductFieldsResolver,
  OrderResolver,
  PaymentAttemptFieldsResolver,
  ConfirmationResolver,
  DiscountResolver,
  FanResolver,
  CouponFieldsResolver,
  CouponDeliveryFieldsResolver,
  LiveResolver,
];
