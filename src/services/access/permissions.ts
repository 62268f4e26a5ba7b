import { Role } from "../../entities/enums";
import type { Grant } from "./ladder";

/**
 * Who may do what: every operation on a brand, an order or what hangs off them names one
 * Permission, and ACCESS below is the one table of who holds it. Services check it with
 * requireAccess / requireBrand / assertAccess (require.ts); field-level rules are the @auth
 * directive in the SDL, compared on the same ladder (ladder.ts). The permission matrix test
 * (tests/api/permission-matrix.*) derives its rows from this table and calls every root field.
 */
export enum Permission {
  // ---- on brand ids
  /** orders(brandId), orderStatusChanged(brandId): the brand's orders and live board. */
  BRAND_ORDERS_READ = "BRAND_ORDERS_READ",
  BRAND_UPDATE = "BRAND_UPDATE",
  BRAND_WEBHOOK_SECRET_ROTATE = "BRAND_WEBHOOK_SECRET_ROTATE",
  /** updateBrand's invoicePrefix (checked after BRAND_UPDATE): how invoice numbers are printed. */
  BRAND_INVOICE_PREFIX_UPDATE = "BRAND_INVOICE_PREFIX_UPDATE",
  /** addBrandMember: adding without an invitation tells whether an account exists, so platform ADMIN only. */
  BRAND_MEMBER_ADD = "BRAND_MEMBER_ADD",
  BRAND_MEMBER_INVITE = "BRAND_MEMBER_INVITE",
  /** Inviting to the OWNER role (checked after BRAND_MEMBER_INVITE). */
  BRAND_OWNER_INVITE = "BRAND_OWNER_INVITE",
  BRAND_LEAVE = "BRAND_LEAVE",
  API_KEY_CREATE = "API_KEY_CREATE",
  PRODUCT_CREATE = "PRODUCT_CREATE",
  /** createDiscount, discounts(brandId). */
  BRAND_DISCOUNTS_MANAGE = "BRAND_DISCOUNTS_MANAGE",
  /** fans(brandId): fans' emails are personal data. */
  BRAND_FANS_READ = "BRAND_FANS_READ",
  /** createOrder by the brand's staff: told why a code is refused, and may hold any number of its uses (a box office). */
  ORDER_PLACE_AS_STAFF = "ORDER_PLACE_AS_STAFF",
  /** createQuota, quotas(brandId): capacity (issue #10). */
  BRAND_QUOTAS_MANAGE = "BRAND_QUOTAS_MANAGE",
  /** checkIn, checkInStats, checkInsChanged: the door (issue #12). */
  BRAND_CHECK_IN = "BRAND_CHECK_IN",
  /** searchOrders and the CSV exports (GET /brands/:brandId/orders.csv, tickets.csv): issue #16. */
  BRAND_ORDERS_SEARCH = "BRAND_ORDERS_SEARCH",
  // ---- on order ids
  ORDER_READ = "ORDER_READ",
  ORDER_CANCEL = "ORDER_CANCEL",
  ORDER_PAY = "ORDER_PAY",
  ORDER_FULFIL = "ORDER_FULFIL",
  ORDER_RESEND_CONFIRMATION = "ORDER_RESEND_CONFIRMATION",
  /** myOrderStatusChanged(orderId): the customer's own stream; brand members use orderStatusChanged. */
  ORDER_WATCH_MINE = "ORDER_WATCH_MINE",
  /** refundOrder (issue #11): money back is the brand's decision. */
  ORDER_REFUND = "ORDER_REFUND",
  // ---- on other ids
  PAYMENT_ATTEMPT_READ = "PAYMENT_ATTEMPT_READ",
  /** discount(id), updateDiscount, deleteDiscount. */
  DISCOUNT_MANAGE = "DISCOUNT_MANAGE",
  FAN_READ = "FAN_READ",
  API_KEY_REVOKE = "API_KEY_REVOKE",
  /** quota(id), updateQuota. */
  QUOTA_MANAGE = "QUOTA_MANAGE",
  /** refund(id): COORGANIZER+ and the order's customer (as Order.refunds). */
  REFUND_READ = "REFUND_READ",
}

/** What the ids of a permission are: each kind has one lookup (require.ts) and one NOT_FOUND answer. */
export type SubjectKind = "brand" | "order" | "paymentAttempt" | "discount" | "fan" | "apiKey" | "quota" | "refund";

export interface AccessRule extends Grant {
  on: SubjectKind;
  /** The FORBIDDEN message for a caller who may see the subject but lacks the grant (default: names the role). */
  forbidden?: string;
}

const COORGANIZER = Role.COORGANIZER;
const ORGANIZER = Role.ORGANIZER;
const OWNER = Role.OWNER;
/** The customer and every brand member, its key and ADMIN: whoever may see the order. */
const ANYONE_WHO_SEES = Role.USER;

// A brand API key holds ORGANIZER (API_KEY_ROLE in ladder.ts); ADMIN is above every brand role.
// prettier-ignore
export const ACCESS: Readonly<Record<Permission, AccessRule>> = {
  [Permission.BRAND_ORDERS_READ]:           { on: "brand", role: COORGANIZER },
  [Permission.BRAND_UPDATE]:                { on: "brand", role: ORGANIZER },
  [Permission.BRAND_WEBHOOK_SECRET_ROTATE]: { on: "brand", role: OWNER },
  [Permission.BRAND_INVOICE_PREFIX_UPDATE]: { on: "brand", role: OWNER, forbidden: "Only an owner can change the invoice prefix" },
  [Permission.BRAND_MEMBER_ADD]:            { on: "brand", role: Role.ADMIN },
  [Permission.BRAND_MEMBER_INVITE]:         { on: "brand", role: ORGANIZER },
  [Permission.BRAND_OWNER_INVITE]:          { on: "brand", role: OWNER, forbidden: "Only an owner can invite OWNERs" },
  // Then leaveBrand looks up the caller's membership: an ADMIN who is no member gets NOT_FOUND there.
  [Permission.BRAND_LEAVE]:                 { on: "brand", role: COORGANIZER },
  [Permission.API_KEY_CREATE]:              { on: "brand", role: OWNER },
  [Permission.PRODUCT_CREATE]:              { on: "brand", role: ORGANIZER },
  [Permission.BRAND_DISCOUNTS_MANAGE]:      { on: "brand", role: ORGANIZER },
  [Permission.BRAND_FANS_READ]:             { on: "brand", role: ORGANIZER },
  [Permission.ORDER_PLACE_AS_STAFF]:        { on: "brand", role: COORGANIZER },
  [Permission.BRAND_QUOTAS_MANAGE]:         { on: "brand", role: ORGANIZER },
  [Permission.BRAND_CHECK_IN]:              { on: "brand", role: COORGANIZER },
  [Permission.BRAND_ORDERS_SEARCH]:         { on: "brand", role: COORGANIZER },

  [Permission.ORDER_READ]:                  { on: "order", role: ANYONE_WHO_SEES },
  [Permission.ORDER_CANCEL]:                { on: "order", role: ANYONE_WHO_SEES },
  [Permission.ORDER_PAY]:                   { on: "order", role: ANYONE_WHO_SEES },
  [Permission.ORDER_FULFIL]:                { on: "order", role: COORGANIZER, forbidden: "Fulfilling needs COORGANIZER or higher in the brand" },
  [Permission.ORDER_RESEND_CONFIRMATION]:   { on: "order", role: COORGANIZER, forbidden: "Resending confirmations needs COORGANIZER or higher in the brand" },
  [Permission.ORDER_WATCH_MINE]:            { on: "order", role: null, customer: true,
                                              forbidden: "myOrderStatusChanged is for the order's customer; brand members use orderStatusChanged(brandId)" },
  [Permission.ORDER_REFUND]:                { on: "order", role: ORGANIZER, forbidden: "Refunds need ORGANIZER or higher in the brand" },

  [Permission.PAYMENT_ATTEMPT_READ]:        { on: "paymentAttempt", role: ANYONE_WHO_SEES },
  [Permission.DISCOUNT_MANAGE]:             { on: "discount", role: ORGANIZER, forbidden: "Discounts need ORGANIZER or higher in the brand" },
  [Permission.FAN_READ]:                    { on: "fan", role: ORGANIZER, forbidden: "Fans' personal data needs ORGANIZER or higher" },
  [Permission.API_KEY_REVOKE]:              { on: "apiKey", role: OWNER },
  [Permission.QUOTA_MANAGE]:                { on: "quota", role: ORGANIZER, forbidden: "Quotas need ORGANIZER or higher in the brand" },
  [Permission.REFUND_READ]:                 { on: "refund", role: COORGANIZER, customer: true },
};

/** The FORBIDDEN message of a permission. */
export function forbiddenMessage(permission: Permission): string {
  const rule = ACCESS[permission];
  return rule.forbidden ?? `This needs the ${rule.role} role in the brand`;
}
