import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { creditTaxLines, netOf, spreadByLargestRemainder, taxLinesOf, taxOfLines } from "../../src/services/order/tax";
import { computeTotals, MAX_ORDER_TOTAL, type DiscountRule } from "../../src/services/order/totals";

// Issue #11: tax and discount sums hold to the cent, for awkward amounts and rates (property-based).

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** Exact round-half-up of gross × 10000 / (10000 + rate), in BigInt: the reference for netOf. */
const netRef = (gross: number, rate: number) => Number((BigInt(gross) * 20000n + BigInt(10000 + rate)) / (2n * BigInt(10000 + rate)));

const rate = fc.oneof(fc.constantFrom(0, 1, 700, 1900, 2000, 2100, 2500, 3333, 9999, 10000), fc.integer({ min: 0, max: 10000 }));
const line = fc.record({
  unitPrice: fc.oneof(fc.constantFrom(0, 1, 3, 7, 99, 333, 1001, 99_999_999, 100_000_000), fc.integer({ min: 0, max: 100_000_000 })),
  quantity: fc.integer({ min: 1, max: 999 }),
  taxRate: rate,
});
const lines = fc.array(line, { minLength: 1, maxLength: 100 }).filter((ls) => sum(ls.map((l) => l.unitPrice * l.quantity)) <= MAX_ORDER_TOTAL);
const rule: fc.Arbitrary<DiscountRule | null> = fc.oneof(
  fc.constant(null),
  fc.record({ type: fc.constant("PERCENT" as const), amount: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ type: fc.constant("FIXED_AMOUNT" as const), amount: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: MAX_ORDER_TOTAL })) }),
);

describe("tax and discount spread (services/order/tax.ts)", () => {
  it("every sum holds to the cent: Σ gross after discount = total, Σ tax = taxTotal = Σ taxLines, net + tax = gross per line", () => {
    fc.assert(
      fc.property(lines, rule, (ls, r) => {
        const totals = computeTotals(ls, r);
        const withTotals = ls.map((l, i) => ({ total: totals.lineTotals[i], taxRate: l.taxRate }));
        const taxed = taxOfLines(withTotals, totals.discountTotal);
        expect(sum(taxed.map((t) => t.discount))).toBe(totals.discountTotal);
        expect(sum(withTotals.map((l, i) => l.total - taxed[i].discount))).toBe(totals.total);
        taxed.forEach((t, i) => {
          const gross = withTotals[i].total - t.discount;
          expect(t.discount).toBeGreaterThanOrEqual(0);
          expect(t.discount).toBeLessThanOrEqual(withTotals[i].total);
          expect(t.net + t.tax).toBe(gross);
          expect(t.net).toBe(netRef(gross, withTotals[i].taxRate));
          expect(t.tax).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(t.net) && Number.isInteger(t.tax)).toBe(true);
        });
        const taxTotal = sum(taxed.map((t) => t.tax));
        const summary = taxLinesOf(withTotals.map((l, i) => ({ taxRate: l.taxRate, net: taxed[i].net, tax: taxed[i].tax })));
        expect(sum(summary.map((t) => t.tax))).toBe(taxTotal);
        expect(sum(summary.map((t) => t.net + t.tax))).toBe(totals.total);
        expect(new Set(summary.map((t) => t.rate)).size).toBe(summary.length);
      }),
      { numRuns: 500 },
    );
  });

  it("the discount is spread in proportion: each share is within one cent of its exact part", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 21_000_000 }), { minLength: 1, maxLength: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (weights, f) => {
          const total = sum(weights);
          const amount = Math.floor(total * f);
          const shares = spreadByLargestRemainder(weights, amount);
          expect(sum(shares)).toBe(amount);
          shares.forEach((s, i) => {
            const exact = total === 0 ? 0 : (amount * weights[i]) / total;
            expect(Math.abs(s - exact)).toBeLessThan(1 + 1e-6);
            expect(s).toBeLessThanOrEqual(weights[i]);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("ties are broken the same way every time (the larger line, then the earlier one)", () => {
    expect(spreadByLargestRemainder([1, 1, 1], 2)).toEqual([1, 1, 0]);
    expect(spreadByLargestRemainder([100, 100, 100], 100)).toEqual([34, 33, 33]);
    expect(spreadByLargestRemainder([1, 2], 1)).toEqual([0, 1]);
    expect(spreadByLargestRemainder([1000, 333, 333], 1)).toEqual([1, 0, 0]);
  });

  it("net is round half up of gross × 10000 / (10000 + rate), also at the largest amounts", () => {
    expect(netOf(119, 1900)).toBe(100);
    expect(netOf(1, 1900)).toBe(1); // 0.84 → 1: tax 0
    expect(netOf(3, 10000)).toBe(2); // 1.5 → 2
    expect(netOf(MAX_ORDER_TOTAL, 1900)).toBe(netRef(MAX_ORDER_TOTAL, 1900));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_ORDER_TOTAL }), rate, (g, r) => netOf(g, r) === netRef(g, r)),
      { numRuns: 2000 },
    );
  });

  it("a credit note splits the refunded amount over the invoice's rates: Σ net + tax = amount, each rate at most its gross", () => {
    const taxLine = fc.record({ rate, gross: fc.integer({ min: 0, max: 20_000_000 }) });
    fc.assert(
      fc.property(fc.uniqueArray(taxLine, { minLength: 1, maxLength: 20, selector: (t) => t.rate }), fc.double({ min: 0, max: 1, noNaN: true }), (ts, f) => {
        const invoice = ts.map((t) => ({ rate: t.rate, net: netOf(t.gross, t.rate), tax: t.gross - netOf(t.gross, t.rate) }));
        const total = sum(ts.map((t) => t.gross));
        fc.pre(total > 0);
        const amount = Math.max(1, Math.floor(total * f));
        const credit = creditTaxLines(invoice, amount);
        expect(sum(credit.map((t) => t.net + t.tax))).toBe(amount);
        for (const c of credit) {
          const of = invoice.find((t) => t.rate === c.rate)!;
          expect(c.net + c.tax).toBeLessThanOrEqual(of.net + of.tax);
          expect(c.net).toBe(netRef(c.net + c.tax, c.rate));
          expect(c.tax).toBeGreaterThanOrEqual(0);
        }
        // A full refund credits exactly what was invoiced.
        expect(creditTaxLines(invoice, total).map((t) => t.net + t.tax)).toEqual(invoice.filter((t) => t.net + t.tax > 0).map((t) => t.net + t.tax));
      }),
      { numRuns: 500 },
    );
  });
});
