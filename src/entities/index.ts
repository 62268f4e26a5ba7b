export * from "./enums";
export { BaseEntity } from "./base";
export { User } from "./user.entity";
export { Brand, BrandMember, ApiKey, Product } from "./brand.entity";
export { BrandInvitation } from "./invitation.entity";
export { Quota, QuotaProduct, OrderQuotaHold, QuotaHoldState } from "./quota.entity";
export { Order, OrderEvent, PaymentAttempt, PaymentWebhookEvent } from "./order.entity";
export type { OrderLineData, PersonData, PaidSnapshot } from "./order.entity";
export { EmailMessage, EmailKind, EmailStatus, OutboxMessage } from "./email.entity";
export { RateLimitHits } from "./rate-limit.entity";
export { IdempotencyKey } from "./idempotency.entity";
export { Discount, DiscountType, Coupon, Fan, FanStatus } from "./loyalty.entity";
export { WebhookDelivery, WebhookKind, DeliveryAttempt, DeliveryStatus } from "./webhook-delivery.entity";
export { PasswordReset } from "./password-reset.entity";
export { Invoice, InvoiceSequence } from "./invoice.entity";
export type { TaxLineData } from "./invoice.entity";
export { Ticket } from "./ticket.entity";
export { Refund, RefundStatus, RefundSource, RefundWebhookEvent } from "./refund.entity";

import { User } from "./user.entity";
import { Brand, BrandMember, ApiKey, Product } from "./brand.entity";
import { Order, OrderEvent, PaymentAttempt, PaymentWebhookEvent } from "./order.entity";
import { BaseEntity } from "./base";
import { EmailMessage, OutboxMessage } from "./email.entity";
import { RateLimitHits } from "./rate-limit.entity";
import { Coupon, Discount, Fan } from "./loyalty.entity";
import { DeliveryAttempt, WebhookDelivery } from "./webhook-delivery.entity";
import { PasswordReset } from "./password-reset.entity";
import { BrandInvitation } from "./invitation.entity";
import { OrderQuotaHold, Quota, QuotaProduct } from "./quota.entity";
import { IdempotencyKey } from "./idempotency.entity";
import { Invoice, InvoiceSequence } from "./invoice.entity";
import { Ticket } from "./ticket.entity";
import { Refund, RefundWebhookEvent } from "./refund.entity";

/** Every entity class, for the ORM configuration. */
export const ALL_ENTITIES = [
  BaseEntity,
  User,
  Brand,
  BrandMember,
  ApiKey,
  Product,
  Order,
  OrderEvent,
  PaymentAttempt,
  PaymentWebhookEvent,
  EmailMessage,
  OutboxMessage,
  RateLimitHits,
  Discount,
  Coupon,
  Fan,
  WebhookDelivery,
  DeliveryAttempt,
  BrandInvitation,
  Quota,
  QuotaProduct,
  OrderQuotaHold,
  IdempotencyKey,
  PasswordReset,
  Invoice,
  InvoiceSequence,
  Ticket,
  Refund,
  RefundWebhookEvent,
];
