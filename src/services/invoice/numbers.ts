import type { InputCheck } from "../../errors";

/**
 * Invoice numbers: `{prefix}-{000001}` (6 digits, wider past 999,999), from each brand's own
 * gapless counter (invoice_sequence). The number is taken by the deferred constraint trigger
 * `invoice_take_number` (Migration20261205170000) when the transaction that inserted the invoice
 * COMMITS: `insert … on conflict (brand_id) do update set last = last + 1 returning last`, then the
 * invoice row gets its seq and number.
 *
 * Why a counter row and not a PostgreSQL SEQUENCE: a sequence hands out values outside the
 * transaction, so a payment that rolls back would leave a gap (tax law wants consecutive numbers).
 * The counter row stays locked until the transaction ends (commit: the number is used; rollback,
 * also a commit that fails later: it is given back). Why at commit: that is the latest moment, so
 * the lock lasts for the commit only, inside PostgreSQL, never across a round trip to a busy API
 * process (taken in the request, 50 concurrent payments of one brand ran into the 5 s statement
 * timeout while waiting). Brands never wait on each other. This file holds the prefix rules.
 */

export const INVOICE_PREFIX = /^[A-Z0-9-]{1,16}$/;

/** The prefix a brand starts with: up to 8 letters and digits of its name, upper-cased, else "INV" (as Migration20261205170000 derived them). */
export function defaultInvoicePrefix(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9]/g, "")
      .toUpperCase()
      .slice(0, 8) || "INV"
  );
}

/** 1..16 characters of A-Z, 0-9 and "-"; records a problem on `field` otherwise. */
export function checkInvoicePrefix(check: InputCheck, field: string, value: string): string {
  check.check(INVOICE_PREFIX.test(value), field, "must be 1 to 16 characters of A-Z, 0-9 and -");
  return value;
}
