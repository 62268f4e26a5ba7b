import { Field, ID, Int, ObjectType } from "type-graphql";
import { DeliveryStatus } from "../../entities";

@ObjectType("OrderWebhookDelivery", {
  description: "An order event POSTed to the brand's orderWebhookUrl (signed like coupon deliveries), retried for 25 hours.",
})
export class OrderWebhookDeliveryType {
  @Field(() => ID, { description: "Also the body's `id` and the Orderline-Delivery header." }) id!: string;
  @Field(() => String, { description: '"order.paid", "order.fulfilled", "order.cancelled", "order.expired", "order.refunded" or "refund.succeeded".' })
  event!: string;
  @Field({ description: "The URL of the latest try (the brand's URL when queued until then)." }) url!: string;
  @Field(() => DeliveryStatus, { description: "CANCELLED: the brand removed its orderWebhookUrl while the delivery was pending." }) status!: DeliveryStatus;
  @Field(() => Int) attempts!: number;
  // lastError, tries: field resolvers (shared with CouponDelivery)
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) deliveredAt!: Date | null;
}
