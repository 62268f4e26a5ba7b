import { MAX_API_KEYS_SHOWN, MAX_BRANDS_PER_ACCOUNT, MAX_MEMBERS_PER_BRAND, MAX_PRODUCTS_PER_BRAND } from "../services/brand/brands";
import { MAX_PENDING_INVITATIONS } from "../services/brand/invitations";
import { MAX_EMAILS_SHOWN } from "../services/confirmation/confirmation";
import { MAX_INVOICES_PER_ORDER } from "../services/invoice/invoices";
import { MAX_DELIVERIES_PER_FAN, MAX_TRIES_SHOWN } from "../services/loyalty/read";
import { MAX_ATTENDEES, MAX_LINES } from "../services/order/orders";
import { MAX_ORDER_EVENTS } from "../services/order/status";
import { MAX_ORDER_DELIVERIES_SHOWN } from "../services/order/webhooks";
import { MAX_TAX_RATES_PER_ORDER } from "../services/order/tax";
import { MAX_ATTEMPTS_PER_ORDER } from "../services/payment/payments";
import { MAX_REFUNDS_PER_ORDER } from "../services/refund/refunds";

/**
 * The most items each list field without a `first` argument can return. The cost rule
 * (limits.ts) charges a list's children this many times, so an accepted document's answer is
 * bounded by what it was charged (see LARGEST_ANSWER there). Every list field of the schema needs
 * either a `first` argument or an entry here: tests/unit/list-bounds.test.ts walks the printed
 * schema and fails for a list that has neither.
 *
 * Each bound is either enforced when writing (a write that would pass it is refused with
 * FAILED_PRECONDITION or BAD_USER_INPUT) or by the read (the field returns at most that many, as
 * its description says). `PAGE` marks a connection's edges: at most the parent's `first`, which
 * the parent is already charged for.
 */
export const PAGE = 1;

export const LIST_BOUNDS: Readonly<Record<string, number>> = {
  // Enforced on write: createBrand/addBrandMember refuse an account's 101st brand; ADMIN sees the newest 100.
  "Query.brands": MAX_BRANDS_PER_ACCOUNT,
  "User.memberships": MAX_BRANDS_PER_ACCOUNT,
  // Enforced on write: addBrandMember and acceptBrandInvitation refuse a brand's 101st member, createProduct its 101st product.
  "Brand.members": MAX_MEMBERS_PER_BRAND,
  "Brand.products": MAX_PRODUCTS_PER_BRAND,
  // A quota's products are the brand's (createQuota/updateQuota check), so at most its 100.
  "Quota.products": MAX_PRODUCTS_PER_BRAND,
  // Enforced on write: inviteBrandMember refuses a brand's 101st pending invitation.
  "Brand.invitations": MAX_PENDING_INVITATIONS,
  // Read: the newest 50 keys (revoked ones included); keys are never deleted.
  "Brand.apiKeys": MAX_API_KEYS_SHOWN,
  // Enforced by createOrder's validation: 100 attendees, 100 lines.
  "Order.attendees": MAX_ATTENDEES,
  "Order.lines": MAX_LINES,
  // One ticket per attendee, or the buyer's one: at most 100 (createOrder's validation).
  "Order.tickets": MAX_ATTENDEES,
  // Enforced on write: attemptToPayForOrder refuses an order's 21st attempt.
  "Order.paymentAttempts": MAX_ATTEMPTS_PER_ORDER,
  // The status machine: created, then at most four transitions (EXPIRED → a late PAID → FULFILLED → REFUNDED).
  "Order.events": MAX_ORDER_EVENTS,
  // The invoice and one credit note per refund: refunds are capped at 50 per order (the read returns at most 51).
  "Order.invoices": MAX_INVOICES_PER_ORDER,
  // One per distinct tax rate of the order's lines: createOrder refuses more than 8 rates in one order.
  "Invoice.taxLines": MAX_TAX_RATES_PER_ORDER,
  // Enforced on write: refundOrder refuses an order's 51st refund (provider reports beyond are refused
  // and logged); automatic refunds are one per payment attempt (at most 20).
  "Order.refunds": MAX_REFUNDS_PER_ORDER + MAX_ATTEMPTS_PER_ORDER,
  // Read: the newest 200 emails (a confirmation is one per recipient, and resends add more).
  "Order.emails": MAX_EMAILS_SHOWN,
  // The buyer and each distinct attendee.
  "ResendConfirmationPayload.sentTo": MAX_ATTENDEES + 1,
  // A fan gets one coupon, pushed once; the read returns at most one.
  "Fan.couponDeliveries": MAX_DELIVERIES_PER_FAN,
  // Read: the newest 10 tries (`attempts` counts them all).
  "CouponDelivery.tries": MAX_TRIES_SHOWN,
  // Read: the newest 20 order webhook deliveries of an order, and of each the newest 10 tries.
  "Order.webhookDeliveries": MAX_ORDER_DELIVERIES_SHOWN,
  "OrderWebhookDelivery.tries": MAX_TRIES_SHOWN,
  "OrderConnection.edges": PAGE,
  "DiscountConnection.edges": PAGE,
  "FanConnection.edges": PAGE,
  "QuotaConnection.edges": PAGE,
};

/**
 * Text fields that can hold more than 320 characters (the longest email), charged one unit per 320
 * characters they may hold, so that every unit of cost stands for at most 320 characters of value.
 */
export const TEXT_WEIGHTS: Readonly<Record<string, number>> = {
  "Brand.couponWebhookUrl": 7, // 2,000 (httpUrl)
  "CouponDelivery.url": 7, // 2,000 (the brand's URL when it was issued)
  "Brand.orderWebhookUrl": 7, // 2,000 (httpUrl)
  "OrderWebhookDelivery.url": 7, // 2,000 (the brand's URL at the latest try)
  "OrderWebhookDelivery.lastError": 4, // 1,000 (cut when stored)
  "Discount.description": 7, // 2,000
  "CouponDelivery.lastError": 4, // 1,000 (cut when stored)
  "DeliveryAttempt.error": 4, // 1,000 (cut when read)
  "Email.lastError": 4, // 1,000 (cut when stored)
};

/** Aliases are answer keys repeated for every item: kept short. */
export const MAX_ALIAS_LENGTH = 32;
