import type { EntityManager } from "@mikro-orm/postgresql";
import type { InputCheck } from "../../errors";

/**
 * Invoice numbers: `{prefix}-{000001}`, from each brand's own gapless counter (invoice_sequence).
 *
 * Why a counter row and not a PostgreSQL SEQUENCE: a sequence hands out values outside the
 * transaction, so a payment that rolls back would leave a gap, and tax law wants consecutive
 * numbers. The counter row is updated in the paying transaction; its row lock then serialises the
 * brand's invoices until that transaction ends (commit: the number is used; rollback: it is given
 * back). Callers take the number as late as possible (after flushing everything else), so the lock
 * is held only for the last statements and the commit. Brands never wait on each other.
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

/** `{prefix}-` and at least 6 digits (wider once a brand passes 999,999). */
export function formatInvoiceNumber(prefix: string, seq: number): string {
  return `${prefix}-${String(seq).padStart(6, "0")}`;
}

/**
 * Takes the brand's next number in the caller's transaction (one statement; the row is created on
 * the brand's first invoice). The row stays locked until the transaction ends: call it last.
 */
export async function takeInvoiceNumber(tx: EntityManager, brandId: string): Promise<{ seq: number; number: string }> {
  const [{ prefix }] = await tx.execute<{ prefix: string }[]>("select invoice_prefix as prefix from brand where id = ?", [brandId]);
  const [{ last }] = await tx.execute<{ last: number }[]>(
    `insert into invoice_sequence (brand_id, last) values (?, 1)
     on conflict (brand_id) do update set last = invoice_sequence.last + 1 returning last`,
    [brandId],
  );
  return { seq: last, number: formatInvoiceNumber(prefix, last) };
}
