/** Order arithmetic in integer minor units. Pure functions: no floats leave this module. */

export interface PricedLine {
  unitPrice: number;
  quantity: number;
}

export type DiscountRule = { type: "PERCENT"; amount: number } | { type: "FIXED_AMOUNT"; amount: number };

export interface Totals {
  lineTotals: number[];
  subtotal: number;
  discountTotal: number;
  total: number;
}

/** Largest amount an order may total (PostgreSQL int4 and GraphQL Int are 32-bit). */
export const MAX_ORDER_TOTAL = 2_147_483_647;

export function lineTotal(line: PricedLine): number {
  return line.unitPrice * line.quantity;
}

/**
 * PERCENT applies to the subtotal rounded half-up to the minor unit (integer arithmetic:
 * floor((subtotal * percent + 50) / 100)); FIXED_AMOUNT is capped at the subtotal.
 */
export function discountFor(subtotal: number, rule: DiscountRule | null | undefined): number {
  if (!rule) return 0;
  if (rule.type === "PERCENT") return Math.min(subtotal, Math.floor((subtotal * rule.amount + 50) / 100));
  return Math.min(subtotal, rule.amount);
}

export function computeTotals(lines: PricedLine[], rule?: DiscountRule | null): Totals {
  const lineTotals = lines.map(lineTotal);
  const subtotal = lineTotals.reduce((a, b) => a + b, 0);
  const discountTotal = discountFor(subtotal, rule);
  return { lineTotals, subtotal, discountTotal, total: subtotal - discountTotal };
}
