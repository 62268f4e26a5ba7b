import { Directive, Field, ID, Int, ObjectType } from "type-graphql";
import { OrderStatus, PaymentAttemptStatus } from "../../entities/enums";
import { Node, PageInfo } from "./common";

@ObjectType("Buyer")
export class BuyerType {
  @Field() name!: string;
  @Field() email!: string;
}

@ObjectType("Attendee", { description: "A ticket holder." })
export class AttendeeType {
  @Field() name!: string;
  @Field() email!: string;
}

@ObjectType("OrderLine")
export class OrderLineType {
  @Field(() => ID) productId!: string;
  @Field() productName!: string;
  @Field(() => Int) unitPrice!: number;
  @Field(() => Int) quantity!: number;
  @Field(() => Int) total!: number;
  @Field(() => Int, { description: "The product's rate when the order was placed, in basis points." }) taxRate!: number;
  @Field(() => Int, { description: "Tax included in this line after its share of the discount." }) tax!: number;
}

@ObjectType("OrderEvent", { description: "One status transition: from, to, when and who." })
export class OrderEventType {
  @Field() at!: Date;
  @Field(() => OrderStatus, { nullable: true }) from!: OrderStatus | null;
  @Field(() => OrderStatus) to!: OrderStatus;
  @Field(() => String, { nullable: true, description: '"user:<id>", "anonymous:<id>", "api-key:<id>", "payment-provider" or "system".' })
  actor!: string | null;
}

@ObjectType("Order", { implements: Node })
export class OrderType extends Node {
  @Field({ description: 'Human-readable and unique, e.g. "OL-7K3Q9D".' }) number!: string;
  @Field(() => OrderStatus) status!: OrderStatus;
  @Directive("@auth(requires: USER)")
  @Field(() => BuyerType, { description: "The order's owner and COORGANIZER+ of the brand only." })
  buyer!: BuyerType;
  @Directive("@auth(requires: USER)")
  @Field(() => [AttendeeType], { description: "The order's owner and COORGANIZER+ of the brand only. At most 100." })
  attendees!: AttendeeType[];
  @Field(() => [OrderLineType], { description: "After payment: the immutable snapshot taken when it was paid. At most 100." })
  lines!: OrderLineType[];
  @Field(() => Int) subtotal!: number;
  @Field(() => Int) discountTotal!: number;
  @Field(() => Int) total!: number;
  @Field(() => Int, { description: "Tax included in the total: the sum of the lines' tax." }) taxTotal!: number;
  @Field() currency!: string;
  // The code may be a discount's shared fixedCode, which is ORGANIZER+ only (Discount.fixedCode).
  @Directive("@auth(requires: ORGANIZER, orCustomer: true)")
  @Field(() => String, { nullable: true, description: "The coupon code used: the order's customer and ORGANIZER+ of the brand only." })
  couponCode!: string | null;
  @Field() createdAt!: Date;
  @Field({ description: "When an unpaid order expires and can no longer be paid." }) expiresAt!: Date;
  @Field(() => Date, { nullable: true }) paidAt!: Date | null;
  @Field(() => Date, { nullable: true }) fulfilledAt!: Date | null;
  @Field(() => Int, { description: "What its SUCCEEDED refunds paid back of the payment that paid it (minor units); never above total." })
  refundedTotal!: number;
  @Field(() => Date, { nullable: true, description: "When refunds reached the total and it became REFUNDED." }) refundedAt!: Date | null;
  // brand, paymentAttempts, events, refunds: field resolvers
}

@ObjectType("OrderEdge")
export class OrderEdge {
  @Field() cursor!: string;
  @Field(() => OrderType) node!: OrderType;
}

@ObjectType("OrderConnection")
export class OrderConnection {
  @Field(() => [OrderEdge]) edges!: OrderEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType("PaymentAttempt", { implements: Node })
export class PaymentAttemptType extends Node {
  @Field({ description: "The provider's checkout session id." }) externalId!: string;
  @Field(() => PaymentAttemptStatus) status!: PaymentAttemptStatus;
  @Field(() => Int) amount!: number;
  @Field() currency!: string;
  @Field({ description: "Set when the provider reported something that was not acted on (e.g. a wrong amount)." })
  flagged!: boolean;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  // order, checkoutUrl: field resolvers
}

@ObjectType("OrderStatusEvent")
export class OrderStatusEventType {
  @Field(() => OrderType) order!: OrderType;
  @Field(() => OrderStatus, { nullable: true }) previousStatus!: OrderStatus | null;
  @Field(() => OrderStatus) status!: OrderStatus;
  @Field() at!: Date;
  @Field(() => Int, { description: "The order's change counter: 0 when it is created, then consecutive events differ by 1, so a gap means a missed event." })
  seq!: number;
}

@ObjectType("ResendConfirmationPayload")
export class ResendConfirmationPayload {
  @Field(() => OrderType) order!: OrderType;
  @Field(() => [String], { description: "The buyer and each distinct attendee: at most 101." }) sentTo!: string[];
}
