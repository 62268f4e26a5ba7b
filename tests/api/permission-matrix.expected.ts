import type { Viewer } from "../../src/services/auth/viewer";
import { BrandRole } from "../../src/entities/enums";
import { decide } from "../../src/services/access/ladder";
import { ACCESS, Permission } from "../../src/services/access/permissions";

/**
 * The permission matrix (issue #7): for every root field of the printed schema, what each kind of
 * caller gets when it calls the field on brand X's resources with valid arguments. Written by hand
 * from the PRODUCT brief (design/PRODUCT.md) and the descriptions in src/schema/schema.graphql, not recorded from the API.
 * Who may do what is decided in one place in src, the access table (src/services/access/permissions.ts):
 * PERMISSION_OF below names the permission each root field checks, and the test derives that
 * field's row from the table and compares it with the row written here (then calls the API).
 *
 * Adding a root field to the schema without a row here fails permission-matrix.test.ts, and so
 * does a row for a field that no longer exists: every new field needs a decision.
 *
 * Principles the rows follow:
 * - Orders, and what hangs off them (payment attempts, order mutations, order subscriptions): the
 *   customer and brand members (COORGANIZER+, the brand's key, ADMIN) see them; anyone else gets
 *   NOT_FOUND, also without credentials (PRODUCT: "never reveal that an id exists").
 * - Everything scoped to a brand (its private data, lists, live board, and every brand mutation):
 *   outsiders and callers without credentials get NOT_FOUND as for a brand that does not exist
 *   (the access table, src/services/access); members whose role is too low get FORBIDDEN.
 * - A brand API key counts as ORGANIZER of its own brand (Role enum description), but it is not an
 *   account: what needs an account (createBrand, addBrandMember, inviteBrandMember, acceptBrandInvitation,
 *   leaveBrand, createApiKey, revokeApiKey) or a customer
 *   (myOrders) answers UNAUTHENTICATED to it, as to anonymous sessions and callers without credentials.
 * - ADMIN is at the top of the ladder: everything a brand OWNER may do, for every brand.
 *
 * Rows marked `// DECISION:` are places where the PRODUCT says nothing and the API is inconsistent
 * with itself; the row holds what the API does today, to be confirmed. A row that disagrees
 * with the API is a bug in the API, not in the table.
 */

/** The callers, in column order. */
export const ROLES = [
  "noToken", // no credentials at all
  "anonymous", // an anonymous session that owns none of the targets
  "customerA", // the account that placed brand X's target orders
  "customerB", // another customer account
  "coorganizerX",
  "organizerX",
  "ownerX",
  "ownerY", // the OWNER of another brand
  "admin", // platform ADMIN
  "apiKeyX", // brand X's API key
] as const;
export type Role = (typeof ROLES)[number];

export const OK = "ok";
export const UA = "UNAUTHENTICATED";
export const FB = "FORBIDDEN";
export const NF = "NOT_FOUND";
export const BI = "BAD_USER_INPUT";
export const FP = "FAILED_PRECONDITION";
export type Outcome = typeof OK | typeof UA | typeof FB | typeof NF | typeof BI | typeof FP;

type Row = readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

const ALL_OK: Row = [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK];
/** Order-level: the customer and the brand (COORGANIZER+, key, ADMIN); NOT_FOUND for anyone else. */
const ORDER_READ: Row = [NF, NF, OK, NF, OK, OK, OK, NF, OK, OK];
/** Brand data for COORGANIZER+ (and the key, ADMIN); outsiders NOT_FOUND. */
const BRAND_COORGANIZER: Row = [NF, NF, NF, NF, OK, OK, OK, NF, OK, OK];
/** Brand data for ORGANIZER+ (and the key, ADMIN); a COORGANIZER FORBIDDEN, outsiders NOT_FOUND. */
const BRAND_ORGANIZER: Row = [NF, NF, NF, NF, FB, OK, OK, NF, OK, OK];
/** Brand staff actions on an order (fulfil, resend): the customer sees the order, so FORBIDDEN; outsiders NOT_FOUND. */
const ORDER_STAFF: Row = [NF, NF, FB, NF, OK, OK, OK, NF, OK, OK];

// prettier-ignore
export const EXPECTED: Record<string, Row> = {
  //                                 noToken anon  custA custB coorgX orgX  ownerX ownerY admin keyX
  "Query.me":                        ALL_OK,
  "Query.brands":                    ALL_OK, // an empty list for callers who work for no brand
  "Query.brand":                     ALL_OK, // a brand's public face, for shops
  "Query.order":                     ORDER_READ,
  "Query.orders":                    BRAND_COORGANIZER,
  "Query.myOrders":                  [UA,    OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   UA], // a key is no customer
  "Query.paymentAttempt":            ORDER_READ,
  "Query.discount":                  BRAND_ORGANIZER,
  "Query.discounts":                 BRAND_ORGANIZER,
  "Query.fan":                       BRAND_ORGANIZER,
  "Query.fans":                      BRAND_ORGANIZER,
  "Query.quota":                     BRAND_ORGANIZER, // issue #10: ORGANIZER+ or the brand's key
  "Query.quotas":                    BRAND_ORGANIZER,
  "Query.checkInStats":              BRAND_COORGANIZER, // issue #12: the door (COORGANIZER+ or the brand's key)
  "Query.refund":                    ORDER_READ, // issue #11: COORGANIZER+ and the order's owner
  "Query.searchOrders":              BRAND_COORGANIZER, // issue #16: as orders(brandId)

  // DECISION: an account (or a key) calling signUp gets BAD_USER_INPUT (field "input"); FAILED_PRECONDITION
  // or FORBIDDEN would describe "you are already signed in" better. The PRODUCT does not say.
  "Mutation.signUp":                 [OK,    OK,   BI,   BI,   BI,   BI,   BI,   BI,   BI,   BI],
  "Mutation.logIn":                  ALL_OK, // public; anyone may log in to an account with its password
  "Mutation.startAnonymousSession":  ALL_OK,
  // Anyone signed in ends their own sessions; a key has none (FORBIDDEN), no credentials none to end.
  "Mutation.logOutEverywhere":       [UA,    OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   FB],
  "Mutation.createBrand":            [UA,    UA,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   UA],
  // Account-only (UNAUTHENTICATED for sessions, keys and no credentials); then the brand rule:
  // outsiders NOT_FOUND, members below the role FORBIDDEN. Adding without an invitation is for
  // platform ADMINs only (issue #12): brand members invite instead.
  "Mutation.addBrandMember":         [UA,    UA,   NF,   NF,   FB,   FB,   FB,   NF,   OK,   UA],
  // The same rule at ORGANIZER (only an OWNER invites OWNERs; the call invites a COORGANIZER).
  "Mutation.inviteBrandMember":      [UA,    UA,   NF,   NF,   FB,   OK,   OK,   NF,   OK,   UA],
  // Any account accepts an invitation sent to its own email (the call: one per caller, to another
  // brand, so that brand X's members stay as they are); another account's token is FORBIDDEN
  // (invitations.test.ts).
  "Mutation.acceptBrandInvitation":  [UA,    UA,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   UA],
  // A member leaves (the call: from another brand where the caller has its role in X, next to
  // that brand's own OWNER); anyone else, an ADMIN who is no member included, NOT_FOUND.
  "Mutation.leaveBrand":             [UA,    UA,   NF,   NF,   OK,   OK,   OK,   NF,   NF,   UA],
  "Mutation.createApiKey":           [UA,    UA,   NF,   NF,   FB,   FB,   OK,   NF,   OK,   UA],
  "Mutation.revokeApiKey":           [UA,    UA,   NF,   NF,   FB,   FB,   OK,   NF,   OK,   UA], // as createApiKey
  "Mutation.updateBrand":            [NF,    NF,   NF,   NF,   FB,   OK,   OK,   NF,   OK,   OK],
  "Mutation.rotateWebhookSecret":    [NF,    NF,   NF,   NF,   FB,   FB,   OK,   NF,   OK,   FB], // OWNER only; a key counts as ORGANIZER
  "Mutation.createProduct":          BRAND_ORGANIZER,
  "Mutation.createOrder":            [UA,    OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK],
  "Mutation.cancelOrder":            ORDER_READ, // "the customer or COORGANIZER+"
  "Mutation.fulfillOrder":           ORDER_STAFF,
  // The customer pays; brand staff and the key may start a checkout too (a key's own orders have no
  // customer). The PRODUCT only says customers pay: confirm that COORGANIZER+ may.
  "Mutation.attemptToPayForOrder":   ORDER_READ,
  "Mutation.resendConfirmation":     ORDER_STAFF,
  "Mutation.createDiscount":         BRAND_ORGANIZER,
  "Mutation.updateDiscount":         BRAND_ORGANIZER,
  "Mutation.deleteDiscount":         BRAND_ORGANIZER,
  "Mutation.registerFan":            ALL_OK, // public (or the brand's key, for its own discounts)
  "Mutation.activateFan":            ALL_OK, // whoever holds the emailed token
  "Mutation.createQuota":            BRAND_ORGANIZER,
  "Mutation.updateQuota":            BRAND_ORGANIZER,
  // Public: the answer is ok whoever asks and whatever the address (issue #16).
  "Mutation.requestPasswordReset":   ALL_OK,
  // Whoever holds the emailed token, with any credentials or none (the call: a fresh account's token per caller).
  "Mutation.resetPassword":          ALL_OK,
  "Mutation.checkIn":                BRAND_COORGANIZER,
  // Issue #11: money back is ORGANIZER+ or the brand's key; the customer sees the order, so FORBIDDEN.
  "Mutation.refundOrder":            [NF,    NF,   FB,   NF,   FB,   OK,   OK,   NF,   OK,   OK],

  "Subscription.orderStatusChanged": BRAND_COORGANIZER,
  "Subscription.checkInsChanged":    BRAND_COORGANIZER,
  // Brand members and ADMIN may see the order but are refused by who they are (they use
  // orderStatusChanged): FORBIDDEN, as resendConfirmation/fulfillOrder answer the customer.
  "Subscription.myOrderStatusChanged": [NF,  NF,   OK,   NF,   FB,   FB,   FB,   NF,   FB,   FB],
  // Public: a storefront shows availability to anyone (an unknown brand is NOT_FOUND).
  "Subscription.availabilityChanged": ALL_OK,
};

// ---- the access table's view of the same rows --------------------------------------------------

/** A root field checked against the access table: its permission, and what it checks before. */
export interface TableRow {
  permission: Permission;
  /** The field needs an account first: UNAUTHENTICATED for no credentials, anonymous sessions and keys. */
  accountOnly?: boolean;
  /** Columns the service answers after the table's check, each with why. */
  after?: Partial<Record<Role, Outcome>>;
}

/** Every root field: the permission it checks, or null for fields the access table does not govern (public, or the caller's own). */
// prettier-ignore
export const PERMISSION_OF: Record<string, TableRow | null> = {
  "Query.me": null,
  "Query.brands": null,
  "Query.brand": null,
  "Query.order": { permission: Permission.ORDER_READ },
  "Query.orders": { permission: Permission.BRAND_ORDERS_READ },
  "Query.myOrders": null,
  "Query.paymentAttempt": { permission: Permission.PAYMENT_ATTEMPT_READ },
  "Query.discount": { permission: Permission.DISCOUNT_MANAGE },
  "Query.discounts": { permission: Permission.BRAND_DISCOUNTS_MANAGE },
  "Query.fan": { permission: Permission.FAN_READ },
  "Query.fans": { permission: Permission.BRAND_FANS_READ },
  "Query.quota": { permission: Permission.QUOTA_MANAGE },
  "Query.quotas": { permission: Permission.BRAND_QUOTAS_MANAGE },
  "Query.checkInStats": { permission: Permission.BRAND_CHECK_IN },
  "Query.refund": { permission: Permission.REFUND_READ },
  "Query.searchOrders": { permission: Permission.BRAND_ORDERS_SEARCH },
  "Mutation.signUp": null,
  "Mutation.logIn": null,
  "Mutation.startAnonymousSession": null,
  "Mutation.logOutEverywhere": null,
  "Mutation.createBrand": null,
  "Mutation.addBrandMember": { permission: Permission.BRAND_MEMBER_ADD, accountOnly: true },
  "Mutation.inviteBrandMember": { permission: Permission.BRAND_MEMBER_INVITE, accountOnly: true }, // the call invites a COORGANIZER
  "Mutation.acceptBrandInvitation": null, // whoever the invitation's email belongs to
  // The table lets ADMIN through; leaveBrand then finds no membership of an ADMIN who is no member.
  "Mutation.leaveBrand": { permission: Permission.BRAND_LEAVE, accountOnly: true, after: { admin: NF } },
  "Mutation.createApiKey": { permission: Permission.API_KEY_CREATE, accountOnly: true },
  "Mutation.revokeApiKey": { permission: Permission.API_KEY_REVOKE, accountOnly: true },
  "Mutation.updateBrand": { permission: Permission.BRAND_UPDATE },
  "Mutation.rotateWebhookSecret": { permission: Permission.BRAND_WEBHOOK_SECRET_ROTATE },
  "Mutation.createProduct": { permission: Permission.PRODUCT_CREATE },
  "Mutation.createQuota": { permission: Permission.BRAND_QUOTAS_MANAGE },
  "Mutation.updateQuota": { permission: Permission.QUOTA_MANAGE },
  "Mutation.checkIn": { permission: Permission.BRAND_CHECK_IN },
  "Mutation.refundOrder": { permission: Permission.ORDER_REFUND },
  "Mutation.createOrder": null, // anyone with a session or the brand's key; ORDER_PLACE_AS_STAFF changes only coupon answers
  "Mutation.cancelOrder": { permission: Permission.ORDER_CANCEL },
  "Mutation.fulfillOrder": { permission: Permission.ORDER_FULFIL },
  "Mutation.attemptToPayForOrder": { permission: Permission.ORDER_PAY },
  "Mutation.resendConfirmation": { permission: Permission.ORDER_RESEND_CONFIRMATION },
  "Mutation.createDiscount": { permission: Permission.BRAND_DISCOUNTS_MANAGE },
  "Mutation.updateDiscount": { permission: Permission.DISCOUNT_MANAGE },
  "Mutation.deleteDiscount": { permission: Permission.DISCOUNT_MANAGE },
  "Mutation.registerFan": null,
  "Mutation.activateFan": null,
  "Mutation.requestPasswordReset": null, // public
  "Mutation.resetPassword": null, // whoever holds the emailed token
  "Subscription.orderStatusChanged": { permission: Permission.BRAND_ORDERS_READ },
  "Subscription.checkInsChanged": { permission: Permission.BRAND_CHECK_IN },
  "Subscription.myOrderStatusChanged": { permission: Permission.ORDER_WATCH_MINE },
  "Subscription.availabilityChanged": null, // public: a storefront's "12 left"
};

/** Each column as a Viewer of the access module: brand X, its target orders' customer A. */
const VIEWERS: Record<Role, Viewer> = {
  noToken: { kind: "none" },
  anonymous: { kind: "anonymous", userId: "anonymous", expiresAtMs: Infinity },
  customerA: account("customerA"),
  customerB: account("customerB"),
  coorganizerX: account("coorganizerX", ["X", BrandRole.COORGANIZER]),
  organizerX: account("organizerX", ["X", BrandRole.ORGANIZER]),
  ownerX: account("ownerX", ["X", BrandRole.OWNER]),
  ownerY: account("ownerY", ["Y", BrandRole.OWNER]),
  admin: { kind: "user", userId: "admin", isAdmin: true, brandRoles: new Map(), expiresAtMs: Infinity },
  apiKeyX: { kind: "apiKey", keyId: "keyX", brandId: "X" },
};

function account(userId: string, ...roles: [string, BrandRole][]): Viewer {
  return { kind: "user", userId, isAdmin: false, brandRoles: new Map(roles), expiresAtMs: Infinity };
}

const OUTCOME = { ok: OK, NOT_FOUND: NF, FORBIDDEN: FB } as const;

/** The row the access table gives a root field, in the matrix's columns. */
export function tableRow(row: TableRow): Row {
  const rule = ACCESS[row.permission];
  const ofOrder = rule.on === "order" || rule.on === "paymentAttempt" || rule.on === "refund";
  const subject = { brandId: "X", ownerId: ofOrder ? "customerA" : null };
  const hasAccount = (role: Role) => VIEWERS[role].kind === "user";
  return ROLES.map((role) => {
    if (row.accountOnly && !hasAccount(role)) return UA;
    return row.after?.[role] ?? OUTCOME[decide(VIEWERS[role], rule, subject)];
  }) as unknown as Row;
}
