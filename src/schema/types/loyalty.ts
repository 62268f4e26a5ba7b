import { Directive, Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node, PageInfo } from "./common";

import { DeliveryStatus, DiscountType, FanStatus } from "../../entities";

registerEnumType(DiscountType, { name: "DiscountType" });
registerEnumType(FanStatus, { name: "FanStatus" });
registerEnumType(DeliveryStatus, { name: "DeliveryStatus" });

@ObjectType("Discount", { implements: Node })
export class DiscountObject extends Node {
  // brand: field resolver
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => DiscountType) type!: DiscountType;
  @Field(() => Int, { description: "PERCENT: 1..100; FIXED_AMOUNT: minor units of the brand's currency." }) amount!: number;
  @Field() freeShipping!: boolean;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Int, { description: "Uses per coupon." }) usageLimit!: number;
  @Field() verifyEmail!: boolean;
  @Directive("@auth(requires: ORGANIZER)")
  @Field(() => String, { nullable: true, description: "The one shared code, if any (ORGANIZER+ of the brand only)." })
  fixedCode!: string | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType("DiscountEdge")
export class DiscountEdge {
  @Field() cursor!: string;
  @Field(() => DiscountObject) node!: DiscountObject;
}

@ObjectType("DiscountConnection")
export class DiscountConnection {
  @Field(() => [DiscountEdge]) edges!: DiscountEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType("Coupon")
export class CouponType {
  @Field() code!: string;
  @Field(() => Int) uses!: number;
  @Field(() => Int) usageLimit!: number;
  // discount: field resolver
}

@Directive("@auth(requires: ORGANIZER)")
@ObjectType("Fan", { implements: Node, description: "A fan is readable by ORGANIZER+ of its brand only." })
export class FanType extends Node {
  // brand, coupon, couponDeliveries: field resolvers
  @Field() name!: string;
  @Field() email!: string;
  @Field(() => String, { nullable: true }) facebookHandle!: string | null;
  @Field(() => FanStatus) status!: FanStatus;
  @Field(() => Date, { nullable: true }) verifiedAt!: Date | null;
  @Field() createdAt!: Date;
}

@ObjectType("FanEdge")
export class FanEdge {
  @Field() cursor!: string;
  @Field(() => FanType) node!: FanType;
}

@ObjectType("FanConnection")
export class FanConnection {
  @Field(() => [FanEdge]) edges!: FanEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType("RegisterFanPayload", { description: "The same answer whether the email was known or not." })
export class RegisterFanPayload {
  @Field() ok!: boolean;
}

@ObjectType("ActivateFanPayload")
export class ActivateFanPayload {
  @Field() ok!: boolean;
}

export const DELIVERY_ERROR_TEXT =
  'Why the try failed: "HTTP <status>" (the shop\'s answer), "timed out", "could not connect", "name not found", "address not allowed", "connection lost", "TLS handshake failed", "invalid HTTP answer" or "request failed". Details stay in the server logs.';

@ObjectType("DeliveryAttempt", { description: "One try of a webhook delivery (a coupon or an order event) to the brand's system." })
export class DeliveryAttemptType {
  @Field() at!: Date;
  @Field(() => Int, { nullable: true, description: "The shop's HTTP status; null when it did not answer." }) statusCode!: number | null;
  @Field(() => String, { nullable: true, description: DELIVERY_ERROR_TEXT }) error!: string | null;
  @Field(() => Int) durationMs!: number;
}

@ObjectType("CouponDelivery", { description: "An issued coupon POSTed to the brand's couponWebhookUrl (signed), retried for 25 hours." })
export class CouponDeliveryType {
  @Field(() => ID) id!: string;
  @Field() url!: string;
  @Field(() => DeliveryStatus, { description: "CANCELLED: the brand removed its couponWebhookUrl while the delivery was pending." }) status!: DeliveryStatus;
  @Field(() => Int) attempts!: number;
  // lastError: field resolver (the stored text mapped to the public vocabulary)
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) deliveredAt!: Date | null;
  // attempts list: field resolver `tries`
}
