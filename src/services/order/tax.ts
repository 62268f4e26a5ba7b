/**
 * Tax and discount arithmetic in integer minor units. Pure functions, no floats leave this module.
 *
 * Prices include tax. A line's rate is in basis points (1900 = 19 %). The order's discount is
 * spread over its lines by largest remainder (so the shares add up to the discount exactly), then
 * each line's gross after its share is split: net = round(gross × 10000 / (10000 + rate)), tax =
 * gross − net. Every sum holds to the cent: Σ (line total − share) = order total, Σ tax = taxTotal,
 * and the per-rate summary (taxLines) adds up to the same totals.
 */

/** Highest rate accepted (100 %). */
export const MAX_TAX_RATE = 10_000;

/**
 * Different tax rates in one order (createOrder refuses more): an invoice's taxLines are one per
 * rate, and Order.invoices (51) × taxLines must stay within the query cost (with 100 it cost 16,064
 * of 5,000 to read one order's invoices). Real price lists use 1 to 4 rates.
 */
export const MAX_TAX_RATES_PER_ORDER = 8;

export interface TaxLine {
  rate: number;
  net: number;
  tax: number;
}

export interface LineTax {
  /** The line's share of the order's discount. */
  discount: number;
  net: number;
  tax: number;
}

/**
 * Splits `amount` over `weights` in proportion, by largest remainder: each share is the floor of its
 * exact part, and the cents left go one each to the largest remainders (ties: the larger weight,
 * then the earlier line). Needs 0 <= amount <= Σ weights; then every share is <= its weight.
 * BigInt products: amount × weight can pass 2^53.
 */
export function spreadByLargestRemainder(weights: readonly number[], amount: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (amount < 0 || amount > sum || !Number.isSafeInteger(amount)) throw new Error(`cannot spread ${amount} over ${sum}`);
  if (amount === 0 || sum === 0) return weights.map(() => 0);
  const total = BigInt(sum);
  const parts = weights.map((w, i) => {
    const exact = BigInt(amount) * BigInt(w);
    return { i, w, share: Number(exact / total), rest: exact % total };
  });
  let left = amount - parts.reduce((a, p) => a + p.share, 0);
  const byRest = [...parts].sort((a, b) => (a.rest === b.rest ? b.w - a.w || a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const p of byRest) {
    if (left === 0) break;
    p.share += 1;
    left -= 1;
  }
  return parts.map((p) => p.share);
}

/** round(gross × 10000 / (10000 + rate)), half up, in exact integer arithmetic. */
export function netOf(gross: number, rate: number): number {
  const den = MAX_TAX_RATE + rate;
  const num = gross * MAX_TAX_RATE * 2 + den; // round half up: floor((2a + b) / 2b)
  let q = Math.floor(num / (2 * den));
  // Guard the float division (operands < 2^53, so at most one off).
  if (q * 2 * den > num) q -= 1;
  else if ((q + 1) * 2 * den <= num) q += 1;
  return q;
}

/** Each line's discount share, net and tax, for lines of `total` (before discount) at `taxRate`. */
export function taxOfLines(lines: readonly { total: number; taxRate: number }[], discountTotal: number): LineTax[] {
  const shares = spreadByLargestRemainder(
    lines.map((l) => l.total),
    discountTotal,
  );
  return lines.map((l, i) => {
    const gross = l.total - shares[i];
    const net = netOf(gross, l.taxRate);
    return { discount: shares[i], net, tax: gross - net };
  });
}

/** The summary per rate (ascending), from lines already taxed: sums of their nets and taxes. */
export function taxLinesOf(lines: readonly { taxRate: number; net: number; tax: number }[]): TaxLine[] {
  const byRate = new Map<number, TaxLine>();
  for (const l of lines) {
    const t = byRate.get(l.taxRate) ?? { rate: l.taxRate, net: 0, tax: 0 };
    t.net += l.net;
    t.tax += l.tax;
    byRate.set(l.taxRate, t);
  }
  return [...byRate.values()].sort((a, b) => a.rate - b.rate);
}

/**
 * A credit note's tax lines: `amount` (<= the invoice's total) spread over the invoice's rates by
 * largest remainder in proportion to their gross, each share then split into net and tax.
 */
export function creditTaxLines(invoiceLines: readonly TaxLine[], amount: number): TaxLine[] {
  const shares = spreadByLargestRemainder(
    invoiceLines.map((t) => t.net + t.tax),
    amount,
  );
  return invoiceLines
    .map((t, i) => {
      const net = netOf(shares[i], t.rate);
      return { rate: t.rate, net, tax: shares[i] - net };
    })
    .filter((t, i) => shares[i] > 0 || invoiceLines.length === 1);
}

/** Each line's share of the discount: as stored, or spread again for lines placed before tax was recorded. */
export function lineDiscounts(lines: readonly { total: number; discount?: number }[], discountTotal: number): number[] {
  if (lines.every((l) => l.discount !== undefined)) return lines.map((l) => l.discount!);
  return spreadByLargestRemainder(
    lines.map((l) => l.total),
    discountTotal,
  );
}
