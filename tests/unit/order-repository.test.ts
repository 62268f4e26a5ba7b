import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// Issue #13 item 1, kept so: orders are read in one place and paged by one routine.

const SRC = join(__dirname, "..", "..", "src");

/** The TypeScript sources of src/ (the migrations and the browser pages left out). */
function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "migrations" || name === "web" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const files = () => sources().map((path) => ({ file: relative(SRC, path), text: readFileSync(path, "utf8") }));

/** Hand-written SQL that reads the order tables: `from orders`, `join payment_attempt`, ... */
const READS_ORDER_TABLES = /\b(from|join)\s+"?(orders|order_event|payment_attempt)\b/i;

// Reads that are not the API's and stay where their rule is, each with its reason.
const OTHER_READS: Record<string, string> = {
  "services/loyalty/coupons.ts": "a customer's PENDING uses of a code, counted inside the coupon reservation's transaction",
  "scripts/seed.ts": "the demo seed checks what it created",
  "services/capacity/seats.ts": "the expiry sweep locks the coupons of the orders it ends, in the lock order (a write path, not a read for the API)",
  "services/access/require.ts": "requireAccess reads only the brand and customer of the ids it checks (the access module's one lookup per kind)",
  "services/checkin/ticket.repository.ts":
    "a ticket's status is its order's: the check-in UPDATE, the ticket reads and the door counts read the order's status (and customer) with the ticket rows",
};

describe("one home for order queries", () => {
  it("only services/order/order.repository.ts reads orders, order events and payment attempts with SQL for the API", () => {
    const readers = files()
      .filter((f) => READS_ORDER_TABLES.test(f.text))
      .map((f) => f.file)
      .filter((file) => !(file in OTHER_READS));
    expect(readers).toEqual(["services/order/order.repository.ts"]);
  });

  it("pages are built by one routine: first + 1 rows, edges and pageInfo, cursors only in services/pagination.ts", () => {
    const where = (pattern: RegExp) =>
      files()
        .filter((f) => pattern.test(f.text))
        .map((f) => f.file);
    expect(where(/first \+ 1/)).toEqual(["services/pagination.ts"]);
    expect(where(/hasNextPage:/)).toEqual(["services/pagination.ts"]);
    expect(where(/function (en|de)codeCursor/)).toEqual(["services/pagination.ts"]);
    expect(where(/order by created_at desc, id desc/)).toEqual(["services/pagination.ts"]);
  });
});
