import { Field, ID, InputType, Int } from "type-graphql";
import { DiscountType } from "../entities";
import "./types/loyalty"; // registers DiscountType with GraphQL

// Inputs carry shapes only; every rule (lengths, ranges, formats) is checked in the services so
// the error can name the exact field (BAD_USER_INPUT with `extensions.field`).

/** The optional idempotencyKey of createOrder, attemptToPayForOrder (and refundOrder); see src/services/idempotency.ts. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  "Optional, 1 to 255 printable ASCII characters. The same caller sending the same key within 24 h gets the first call's result (same ids, current state) and no second effect, also when the calls race; the same key with other arguments is BAD_USER_INPUT.";

@InputType()
export class SignUpInput {
  @Field() email!: string;
  @Field() password!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
}

@InputType()
export class CreateBrandInput {
  @Field() name!: string;
  @Field({ description: "ISO 4217 code, e.g. EUR." }) currency!: string;
  @Field(() => String, { nullable: true }) couponWebhookUrl?: string | null;
  @Field(() => String, { nullable: true }) orderWebhookUrl?: string | null;
  @Field(() => String, { nullable: true, description: "1 to 16 of A-Z, 0-9 and -; by default up to 8 letters and digits of the name, else INV." })
  invoicePrefix?: string | null;
}

@InputType()
export class CreateProductInput {
  @Field(() => ID) brandId!: string;
  @Field() name!: string;
  @Field(() => Int, { description: "Minor units of the brand's currency." }) unitPrice!: number;
  @Field(() => Int, { nullable: true, defaultValue: 0, description: "Basis points, 0 to 10000 (1900 = 19 %); the price includes it." }) taxRate?: number | null;
}

@InputType()
export class OrderLineInput {
  @Field(() => ID) productId!: string;
  @Field(() => Int) quantity!: number;
}

@InputType()
export class BuyerInput {
  @Field() name!: string;
  @Field() email!: string;
}

@InputType()
export class AttendeeInput {
  @Field() name!: string;
  @Field() email!: string;
}

@InputType()
export class CreateOrderInput {
  @Field(() => ID) brandId!: string;
  @Field(() => [OrderLineInput]) lines!: OrderLineInput[];
  @Field(() => BuyerInput) buyer!: BuyerInput;
  @Field(() => [AttendeeInput], { nullable: true }) attendees?: AttendeeInput[] | null;
  @Field(() => String, { nullable: true }) couponCode?: string | null;
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey?: string | null;
}

@InputType()
export class CreateDiscountInput {
  @Field(() => ID) brandId!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => DiscountType) type!: DiscountType;
  @Field(() => Int) amount!: number;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) freeShipping?: boolean | null;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) usageLimit?: number | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) verifyEmail?: boolean | null;
  @Field(() => String, { nullable: true }) fixedCode?: string | null;
}

@InputType()
export class UpdateDiscountInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Int, { nullable: true }) amount?: number | null;
  @Field(() => Boolean, { nullable: true }) freeShipping?: boolean | null;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
  @Field(() => Int, { nullable: true }) usageLimit?: number | null;
  @Field(() => Boolean, { nullable: true }) verifyEmail?: boolean | null;
}

@InputType()
export class RegisterFanInput {
  @Field(() => ID) discountId!: string;
  @Field() name!: string;
  @Field() email!: string;
  @Field(() => String, { nullable: true }) facebookHandle?: string | null;
}

@InputType()
export class UpdateBrandInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'Where issued coupons are POSTed; "" removes it.' }) couponWebhookUrl?: string | null;
  @Field(() => String, { nullable: true, description: 'Where order events are POSTed; "" removes it (pending deliveries are cancelled).' })
  orderWebhookUrl?: string | null;
  @Field(() => String, { nullable: true, description: "OWNER only: 1 to 16 of A-Z, 0-9 and -. Numbers already issued keep theirs." }) invoicePrefix?:
    string | null;
}

@InputType()
export class CreateQuotaInput {
  @Field(() => ID) brandId!: string;
  @Field() name!: string;
  @Field(() => Int, { description: "Seats, 0 to 1,000,000." }) size!: number;
  @Field(() => [ID], { description: "The brand's products it limits (a product may sit in several quotas)." }) productIds!: string[];
}

@InputType()
export class UpdateQuotaInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Int, { nullable: true, description: "Never below sold + held (BAD_USER_INPUT on input.size)." }) size?: number | null;
  @Field(() => [ID], { nullable: true, description: "Replaces the products it limits." }) productIds?: string[] | null;
}

@InputType({ description: "searchOrders: all given conditions hold." })
export class OrderFilter {
  @Field(() => String, {
    nullable: true,
    description:
      "A fragment of the order number or of the buyer's or an attendee's name or email, any case; at most 200 characters with at least 3 letters or digits in a row (shorter fragments are BAD_USER_INPUT: an index cannot find them).",
  })
  search?: string | null;
  @Field(() => Date, { nullable: true, description: "Created at or after." }) createdFrom?: Date | null;
  @Field(() => Date, { nullable: true, description: "Created at or before; not before createdFrom." }) createdTo?: Date | null;
}
