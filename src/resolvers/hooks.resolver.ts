import { Arg, Ctx, Directive, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { WebhookDelivery } from "../entities";
import { AuthPayload } from "../schema/types/account";
import { OkPayload } from "../schema/types/invitation";
import { DeliveryAttemptType } from "../schema/types/loyalty";
import { OrderType } from "../schema/types/order";
import { OrderWebhookDeliveryType } from "../schema/types/webhook";
import * as passwordReset from "../services/auth/password-reset";
import * as loyalty from "../services/loyalty/read";
import type { OrderView } from "../services/order/order.repository";
import * as orderWebhooks from "../services/order/webhooks";
import { RateLimit, describeLimits } from "../rate-limit/decorator";
import { REQUEST_PASSWORD_RESET, RESET_PASSWORD } from "../rate-limit/rules";
import type { GraphQLContext } from "./context";

@Resolver()
export class PasswordResetResolver {
  @Mutation(() => OkPayload, {
    description: `Public. Always \`ok: true\`, after the same work whether or not the address has an account; an account's address gets a single-use link valid 1 hour (a new request replaces the earlier link). ${describeLimits(REQUEST_PASSWORD_RESET)}`,
  })
  @RateLimit(...REQUEST_PASSWORD_RESET)
  requestPasswordReset(@Ctx() ctx: GraphQLContext, @Arg("email", () => String) email: string) {
    return passwordReset.requestPasswordReset(ctx, email);
  }

  @Mutation(() => AuthPayload, {
    description: `Whoever holds the emailed token. Sets the password (the sign-up rule, field \`password\`), ends every session of the account and returns a fresh token. Once: an unknown, used, replaced or expired token is BAD_USER_INPUT on \`token\`. ${describeLimits(RESET_PASSWORD)}`,
  })
  @RateLimit(...RESET_PASSWORD)
  resetPassword(@Ctx() ctx: GraphQLContext, @Arg("token", () => String) token: string, @Arg("password", () => String) password: string) {
    return passwordReset.resetPassword(ctx, token, password);
  }
}

@Resolver(() => OrderType)
export class OrderWebhookFieldsResolver {
  @Directive("@auth(requires: ORGANIZER)")
  @FieldResolver(() => [OrderWebhookDeliveryType], {
    description: `ORGANIZER+: the order's events POSTed to the brand's orderWebhookUrl, oldest first (the newest ${orderWebhooks.MAX_ORDER_DELIVERIES_SHOWN}).`,
  })
  webhookDeliveries(@Ctx() ctx: GraphQLContext, @Root() order: OrderView) {
    return orderWebhooks.orderDeliveries(ctx, order.id);
  }
}

@Resolver(() => OrderWebhookDeliveryType)
export class OrderWebhookDeliveryFieldsResolver {
  @FieldResolver(() => [DeliveryAttemptType], { description: "The newest 10 tries, oldest first (`attempts` counts them all)." })
  tries(@Ctx() ctx: GraphQLContext, @Root() delivery: WebhookDelivery) {
    return loyalty.deliveryTries(ctx, delivery.id);
  }

  @FieldResolver(() => String, { nullable: true, description: "The last try's error, in the words of DeliveryAttempt.error." })
  lastError(@Root() delivery: WebhookDelivery) {
    return loyalty.deliveryLastError(delivery);
  }
}
