import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { RefundSource, RefundStatus } from "../../entities";
import { Node } from "./common";

registerEnumType(RefundStatus, { name: "RefundStatus" });
registerEnumType(RefundSource, {
  name: "RefundSource",
  description: "BRAND: refundOrder; PROVIDER: reported by the provider; AUTOMATIC: a late or second payment that could not be kept.",
});

@ObjectType("Refund", {
  implements: Node,
  description: "Money paid back of one payment of an order (COORGANIZER+ of the brand, its key and the order's owner).",
})
export class RefundType extends Node {
  // order: field resolver
  @Field(() => Int, { description: "Minor units." }) amount!: number;
  @Field() currency!: string;
  @Field(() => RefundStatus, { description: "PENDING until the provider reports; a FAILED refund's amount is refundable again." }) status!: RefundStatus;
  @Field(() => RefundSource) source!: RefundSource;
  @Field(() => String, { nullable: true, description: "At most 500 characters." }) reason!: string | null;
  @Field(() => String, { nullable: true, description: "The provider's refund id, once known." }) externalId!: string | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@InputType("RefundOrderInput")
export class RefundOrderInput {
  @Field(() => ID) orderId!: string;
  @Field(() => Int, { nullable: true, description: "Minor units; omitted: all that remains refundable." }) amount?: number | null;
  @Field(() => String, { nullable: true, description: "At most 500 characters." }) reason?: string | null;
  @Field(() => String, { nullable: true, description: "At most 255 characters." }) idempotencyKey?: string | null;
}
