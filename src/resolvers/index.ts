import type { BuildSchemaOptions } from "type-graphql";
import { AuthResolver, UserFieldsResolver } from "./auth.resolver";
import { ApiKeyFieldsResolver, BrandMemberFieldsResolver, BrandResolver, ProductFieldsResolver } from "./brand.resolver";
import { OrderResolver, PaymentAttemptFieldsResolver } from "./order.resolver";
import { ConfirmationResolver, EmailFieldsResolver } from "./confirmation.resolver";
import { CouponDeliveryFieldsResolver, CouponFieldsResolver, DiscountResolver, FanResolver } from "./loyalty.resolver";
import { LiveResolver } from "./live.resolver";
import { BrandInvitationsFieldResolver, InvitationResolver } from "./invitation.resolver";
import { ProductAvailabilityResolver, QuotaResolver } from "./quota.resolver";
import { OrderWebhookDeliveryFieldsResolver, OrderWebhookFieldsResolver, PasswordResetResolver } from "./hooks.resolver";
import { CheckInResolver, CheckInStatsFieldsResolver, OrderTicketsResolver } from "./checkin.resolver";
import { OrderRefundsResolver, RefundResolver } from "./refund.resolver";

export const RESOLVERS: BuildSchemaOptions["resolvers"] = [
  AuthResolver,
  UserFieldsResolver,
  BrandResolver,
  BrandMemberFieldsResolver,
  ApiKeyFieldsResolver,
  ProductFieldsResolver,
  OrderResolver,
  PaymentAttemptFieldsResolver,
  ConfirmationResolver,
  EmailFieldsResolver,
  DiscountResolver,
  FanResolver,
  CouponFieldsResolver,
  CouponDeliveryFieldsResolver,
  LiveResolver,
  InvitationResolver,
  BrandInvitationsFieldResolver,
  QuotaResolver,
  ProductAvailabilityResolver,
  PasswordResetResolver,
  OrderWebhookFieldsResolver,
  OrderWebhookDeliveryFieldsResolver,
  CheckInResolver,
  CheckInStatsFieldsResolver,
  OrderTicketsResolver,
  RefundResolver,
  OrderRefundsResolver,
];
