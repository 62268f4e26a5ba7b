import { Directive, Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { BrandType } from "./account";
import { Node, PageInfo } from "./common";

export enum DiscountType {
  PERCENT = "PERCENT",
  FIXED_AMOUNT = "FIXED_AMOUNT",
}
export enum FanStatus {
  PENDING_VERIFICATION = "PENDING_VERIFICATION",
  ACTIVE = "ACTIVE",
}
registerEnumType(DiscountType, { name: "DiscountType" });
registerEnumType(FanStatus, { name: "FanStatus" });

@ObjectType("Discount", { implements: Node })
export class DiscountObject extends Node {
  @Field(() => BrandType) brand!: BrandType;
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
  @Field(() => DiscountObject) discount!: DiscountObject;
}

@Directive("@auth(requires: ORGANIZER)")
@ObjectType("Fan", { implements: Node, description: "A fan is readable by ORGANIZER+ of its brand only." })
export class FanType extends Node {
  @Field(() => BrandType) brand!: BrandType;
  @Field() name!: string;
  @Field() email!: string;
  @Field(() => String, { nullable: true }) facebookHandle!: string | null;
  @Field(() => FanStatus) status!: FanStatus;
  @Field(() => Date, { nullable: true }) verifiedAt!: Date | null;
  @Field(() => CouponType, { nullable: true }) coupon!: CouponType | null;
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

