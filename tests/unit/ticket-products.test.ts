import { describe, expect, it } from "vitest";
import { productsOfTickets } from "../../src/services/checkin/issue";

// Which product each stored ticket is for (README "Check-in"): the lines' units in order.
describe("productsOfTickets", () => {
  const lines = [
    { productId: "a", quantity: 2 },
    { productId: "b", quantity: 1 },
  ];
  it("gives ticket n the n-th unit of the lines, in line order", () => {
    expect(productsOfTickets(lines, 3)).toEqual(["a", "a", "b"]);
  });
  it("the buyer's single ticket takes the first line's product", () => {
    expect(productsOfTickets(lines, 1)).toEqual(["a"]);
  });
  it("holders beyond the units take the last unit's product", () => {
    expect(productsOfTickets(lines, 5)).toEqual(["a", "a", "b", "b", "b"]);
  });
});
