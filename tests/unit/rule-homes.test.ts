import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Where rules live (ARCHITECTURE.md): who may do what is decided in src/services/access only, and
 * "a discount is live" and the SQL of a coupon's uses are written in the coupon module only. Reads
 * the source text, so a second copy of a rule fails here however it is called.
 */

const ROOT = join(__dirname, "..", "..");

/** Every .ts file under src/, with its text, path relative to the repository. */
function sources(dir = join(ROOT, "src")): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "migrations" || name === "web" ? [] : sources(path);
    return name.endsWith(".ts") ? [{ path: relative(ROOT, path), text: readFileSync(path, "utf8") }] : [];
  });
}
const filesMatching = (re: RegExp) =>
  sources()
    .filter((f) => re.test(f.text))
    .map((f) => f.path);

describe("each rule has one home", () => {
  it("role checks: only src/services/access compares roles or computes a role over an object", () => {
    // roleOver and atLeast are the ladder (hasRole was its old name); a RANK table elsewhere would be a second ladder.
    const found = filesMatching(/\b(roleOver|hasRole)\(|\bRANK\b/).filter((p) => !p.startsWith("src/services/access/"));
    expect(found).toEqual([]);
  });

  it('"a discount is live" is written once, as LIVE_DISCOUNT in the coupon module', () => {
    expect(filesMatching(/expires_at is null or|expiresAt === null \|\|/)).toEqual(["src/services/loyalty/coupons.ts"]);
    expect(filesMatching(/\bisLive\(/)).toEqual([]);
  });

  it("a coupon's uses are reserved and given back in the coupon module only", () => {
    expect(filesMatching(/update coupon\b/)).toEqual(["src/services/loyalty/coupons.ts"]);
    // The order's status machine asks the coupon module; it does not decide which statuses give a use back.
    const status = readFileSync(join(ROOT, "src/services/order/status.ts"), "utf8");
    expect(status).not.toMatch(/CANCELLED.*releaseCoupon/);
  });

  it("idempotency keys are claimed and read in the idempotency module only (same key, same result, one effect)", () => {
    expect(filesMatching(/(insert into|from) idempotency_key\b/)).toEqual(["src/services/idempotency.ts"]);
    expect(readFileSync(join(ROOT, "ARCHITECTURE.md"), "utf8")).toContain("| Idempotency keys: same key, same result, one effect");
  });

  it("CSV cells are neutralised in one place, and the search text is queried where its index is declared", () => {
    expect(filesMatching(/FORMULA_START/)).toEqual(["src/services/export/csv.ts"]);
    expect(filesMatching(/order_search_text\(/).sort()).toEqual(["src/entities/order.entity.ts", "src/services/order/order.repository.ts"]);
  });
});

describe("ARCHITECTURE.md", () => {
  const page = readFileSync(join(ROOT, "ARCHITECTURE.md"), "utf8");

  it("names the owner of each rule a newcomer looks for", () => {
    for (const rule of [
      "Who may fulfil",
      "Coupon usage limit",
      "Coupon per-buyer hold",
      "Resend limit",
      "Quota exactness",
      "Order expiry",
      "Rate limits",
      "A ticket is checked in once",
      "A refund never exceeds what was paid",
      "Late payments are honoured or refunded",
      "Search uses an index",
      "CSV cells are neutralised",
    ]) {
      expect(page, rule).toContain(`| ${rule}`);
    }
  });

  it("links only to files that exist (one hop from the page)", () => {
    const targets = [...page.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(30);
    expect(targets.filter((t) => !existsSync(join(ROOT, t)))).toEqual([]);
  });
});
