import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { OrderView } from "../services/order/order.repository";
import { RateLimit, describeLimits } from "../rate-limit/decorator";
import { RESEND_CONFIRMATION } from "../rate-limit/rules";
import { EmailType } from "../schema/types/email";
import { OrderType, ResendConfirmationPayload } from "../schema/types/order";
import * as confirmation from "../services/confirmation/confirmation";
import type { EmailMessage } from "../entities";
import type { GraphQLContext } from "./context";

@Resolver(() => OrderType)
export class ConfirmationResolver {
  @Mutation(() => ResendConfirmationPayload, {
    description: `COORGANIZER+; PAID or FULFILLED orders. ${describeLimits(RESEND_CONFIRMATION)} Returns the addresses queued.`,
  })
  @RateLimit(...RESEND_CONFIRMATION)
  resendConfirmation(@Ctx() ctx: GraphQLContext, @Arg("orderId", () => ID) orderId: string) {
    return confirmation.resendConfirmation(ctx, orderId);
  }

  @Directive("@auth(requires: COORGANIZER)")
  @FieldResolver(() => [EmailType], { description: "The newest 200 emails of the order and their delivery status, oldest first (COORGANIZER+)." })
  emails(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return confirmation.orderEmails(ctx, order.id);
  }
}

@Resolver(() => EmailType)
export class EmailFieldsResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description:
      "Why the last try failed: Postmark's own answer as it gave it, or a generic text when Postmark could not be reached (details in the server logs).",
  })
  lastError(@Root() email: EmailMessage) {
    return confirmation.emailLastError(email);
  }
}
