import { describe, expect, it } from "vitest";
import { OrderStatus } from "../../src/entities/enums";
import { newOrderNumber } from "../../src/services/order/number";
import { canTransition, isPastDue, MAX_ORDER_EVENTS, TRANSITIONS } from "../../src/services/order/status";
import { computeTotals, discountFor } from "../../src/services/order/totals";

describe("order totals", () => {
  it("adds line totals in minor units", () => {
    expect(
      computeTotals([
        { unitPrice: 1250, quantity: 2 },
        { unitPrice: 400, quantity: 1 },
      ]),
    ).toEqual({
      lineTotals: [2500, 400],
      subtotal: 2900,
      discountTotal: 0,
      total: 2900,
    });
  });

  it("rounds a percentage discount half-up to the minor unit", () => {
    expect(discountFor(999, { type: "PERCENT", amount: 15 })).toBe(150); // 149.85 → 150
    expect(discountFor(1010, { type: "PERCENT", amount: 5 })).toBe(51); // 50.5 → 51
    expect(discountFor(1009, { type: "PERCENT", amount: 5 })).toBe(50); // 50.45 → 50
    expect(discountFor(2900, { type: "PERCENT", amount: 100 })).toBe(2900);
  });

  it("caps a fixed discount at the subtotal", () => {
    expect(discountFor(2900, { type: "FIXED_AMOUNT", amount: 500 })).toBe(500);
    expect(discountFor(300, { type: "FIXED_AMOUNT", amount: 500 })).toBe(300);
    expect(computeTotals([{ unitPrice: 300, quantity: 1 }], { type: "FIXED_AMOUNT", amount: 500 }).total).toBe(0);
  });
});

describe("the order status machine", () => {
  it("allows exactly PENDING→PAID→FULFILLED, PENDING→CANCELLED|EXPIRED, CANCELLED|EXPIRED→PAID (a late payment honoured) and PAID|FULFILLED→REFUNDED", () => {
    const allowed = Object.values(OrderStatus).flatMap((from) =>
      Object.values(OrderStatus)
        .filter((to) => canTransition(from, to))
        .map((to) => `${from}->${to}`),
    );
    expect(allowed.sort()).toEqual([
      "CANCELLED->PAID",
      "EXPIRED->PAID",
      "FULFILLED->REFUNDED",
      "PAID->FULFILLED",
      "PAID->REFUNDED",
      "PENDING->CANCELLED",
      "PENDING->EXPIRED",
      "PENDING->PAID",
    ]);
    expect(TRANSITIONS.REFUNDED).toEqual([]);
    expect(MAX_ORDER_EVENTS).toBe(5); // created, EXPIRED, a late PAID, FULFILLED, REFUNDED
  });

  it("treats a PENDING order past its deadline as past due, and nothing else", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    expect(isPastDue({ status: OrderStatus.PENDING, expiresAt: new Date("2026-01-01T12:00:00Z") }, now)).toBe(true);
    expect(isPastDue({ status: OrderStatus.PENDING, expiresAt: new Date("2026-01-01T12:00:01Z") }, now)).toBe(false);
    expect(isPastDue({ status: OrderStatus.PAID, expiresAt: new Date("2025-01-01T00:00:00Z") }, now)).toBe(false);
  });
});

describe("order numbers", () => {
  it("are OL- and six unambiguous characters, and do not repeat in practice", () => {
    const numbers = Array.from({ length: 2000 }, newOrderNumber);
    for (const n of numbers) expect(n).toMatch(/^OL-[2-9A-HJKMNP-Z]{6}$/);
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});
