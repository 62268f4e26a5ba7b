import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ticketCode } from "../../src/services/confirmation/tickets";
import { CreateProductDocument } from "../graphql/generated";
import { apiUrl, db, ok, testClientIp, TEST_CLIENT_IP } from "../helpers/api";
import { apiKey, brandWithProducts, member, payOrder, placeOrder, signUp, type Account, type BrandSetup } from "../helpers/fixtures";
import { startApi, TEST_AUTH_SECRET, type ApiProcess } from "../helpers/processes";

// Issue #16: GET /brands/:brandId/orders.csv and tickets.csv. RFC 4180 (checked by a strict
// parser below), UTF-8 with a BOM, formula cells neutralised, the searchOrders filters, the API's
// credentials (401 / 404 / 400 / 429), the export limit counted exactly, and a large export
// streamed in constant memory.

/** A strict RFC 4180 parser: CRLF records, quoted fields with "" escapes; anything else throws. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      let cell = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new Error("unterminated quoted field");
          if (text[i] === '"') {
            if (text[i + 1] !== '"') break;
            cell += '"';
            i += 2;
          } else cell += text[i++];
        }
        i++;
        if (i < text.length && text[i] !== "," && text.slice(i, i + 2) !== "\r\n") throw new Error(`text after a closing quote at ${i}`);
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r") {
          if (text[i] === '"' || text[i] === "\n") throw new Error(`bare quote or LF at ${i}`);
          cell += text[i++];
        }
        if (text[i] === "\r" && text[i + 1] !== "\n") throw new Error(`bare CR at ${i}`);
      }
      record.push(cell);
      if (text[i] === ",") i++;
      else break;
    }
    if (text.slice(i, i + 2) !== "\r\n") throw new Error(`record does not end with CRLF at ${i}`);
    i += 2;
    records.push(record);
  }
  const width = records[0]?.length;
  if (records.some((r) => r.length !== width)) throw new Error("records of different widths");
  return records;
}

interface Download {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
  rows: string[][];
  json?: { error: string; code: string };
}

async function download(path: string, auth: { token?: string; apiKey?: string; ip?: string; base?: string } = {}): Promise<Download> {
  const headers: Record<string, string> = { "x-forwarded-for": auth.ip ?? TEST_CLIENT_IP };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
  const res = await fetch(`${auth.base ?? apiUrl()}${path}`, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString("utf8");
  const csv = res.status === 200 && (res.headers.get("content-type") ?? "").startsWith("text/csv");
  return {
    status: res.status,
    headers: res.headers,
    bytes,
    text,
    rows: csv ? parseCsv(text.replace(/^\uFEFF/, "")) : [],
    json: csv ? undefined : JSON.parse(text),
  };
}

let X: BrandSetup, Y: BrandSetup;
let customer: Account;
let tricky: Awaited<ReturnType<typeof placeOrder>>, plain: Awaited<ReturnType<typeof placeOrder>>;
const ordersCsv = (query = "", brand = () => X) => `/brands/${brand().brandId}/orders.csv${query}`;
const ticketsCsv = (query = "") => `/brands/${X.brandId}/tickets.csv${query}`;
const owner = () => ({ token: X.owner.token });

beforeAll(async () => {
  [X, Y, customer] = await Promise.all([brandWithProducts(), brandWithProducts(), signUp("csv")]);
  const { createProduct } = await ok(CreateProductDocument, { input: { brandId: X.brandId, name: 'Gala, "VIP"', unitPrice: 9900 } }, { token: X.owner.token });
  tricky = await placeOrder(X, customer.token, {
    lines: [{ productId: createProduct.id, quantity: 2 }],
    buyer: { name: 'Smith, "Jr"', email: "smith@csv.test" },
    attendees: [
      { name: '=HYPERLINK("http://evil.test")', email: "+1@csv.test" },
      { name: "@SUM(A1)", email: "-x@csv.test" },
    ],
  });
  plain = await placeOrder(X, customer.token, { buyer: { name: "Plain Buyer", email: "plain@csv.test" }, attendees: [] });
  await payOrder(plain, customer.token);
});

describe("orders.csv", () => {
  it("is UTF-8 with a BOM, RFC 4180 (CRLF, quoted commas and quotes), newest first, formulas neutralised", async () => {
    const d = await download(ordersCsv(), owner());
    expect(d.status).toBe(200);
    expect(d.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(d.headers.get("content-disposition")).toMatch(/^attachment; filename="orders-[0-9a-f]{8}\.csv"$/);
    expect([...d.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = d.rows;
    expect(header).toEqual([
      "number",
      "created_at",
      "status",
      "buyer_name",
      "buyer_email",
      "subtotal",
      "discount",
      "tax_total",
      "total",
      "refunded_total",
      "currency",
      "paid_at",
      "fulfilled_at",
      "lines",
    ]);
    expect(rows.map((r) => r[0])).toEqual([plain.number, tricky.number]);
    const t = rows[1];
    expect(t[3]).toBe('Smith, "Jr"');
    expect(t[13]).toBe('2 × Gala, "VIP"');
    expect(d.text).toContain('"Smith, ""Jr"""');
    expect([t[5], t[7], t[8], t[9], t[10]]).toEqual(["198.00", "0.00", "198.00", "0.00", "EUR"]);
    expect(rows[0][2]).toBe("PAID");
    expect(rows[0][11]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("neutralises a buyer email that starts a formula", async () => {
    const evil = await placeOrder(Y, customer.token, { buyer: { name: "-1+1", email: "=cmd@csv.test" }, attendees: [] });
    const d = await download(
      ordersCsv("", () => Y),
      { token: Y.owner.token },
    );
    const row = d.rows.find((r) => r[0] === evil.number)!;
    expect([row[3], row[4]]).toEqual(["'-1+1", "'=cmd@csv.test"]);
  });

  it("takes the searchOrders filters: search, status (repeated or comma-separated), createdFrom, createdTo", async () => {
    const numbers = async (q: string) => (await download(ordersCsv(q), owner())).rows.slice(1).map((r) => r[0]);
    expect(await numbers("?search=SMITH")).toEqual([tricky.number]);
    expect(await numbers("?search=evil.test")).toEqual([tricky.number]); // an attendee's email
    expect(await numbers("?status=PAID")).toEqual([plain.number]);
    expect(await numbers("?status=PENDING,PAID")).toEqual([plain.number, tricky.number]);
    expect(await numbers("?status=PENDING&status=CANCELLED")).toEqual([tricky.number]);
    expect(await numbers(`?createdFrom=${encodeURIComponent(plain.createdAt)}`)).toEqual([plain.number]);
    expect(await numbers(`?createdTo=${encodeURIComponent(tricky.createdAt)}`)).toEqual([tricky.number]);
    expect(await numbers("?search=nobody-matches")).toEqual([]);
  });

  it("answers a bad filter with 400 and a plain message naming the parameter", async () => {
    for (const q of [
      "?status=NOPE",
      "?createdFrom=yesterday",
      "?search=ab",
      "?search=abc&search=def",
      `?createdFrom=2026-12-02T00:00:00Z&createdTo=2026-12-01T00:00:00Z`,
    ]) {
      const d = await download(ordersCsv(q), owner());
      expect([q, d.status, d.json?.code]).toEqual([q, 400, "BAD_USER_INPUT"]);
      expect(d.json!.error).toMatch(/^(status|createdFrom|createdTo|search): /);
    }
  });
});

describe("tickets.csv", () => {
  it("has one row per stored ticket of a paid order: the attendees (or the buyer), their product, code and status, formulas neutralised", async () => {
    const pending = await download(ticketsCsv(), owner());
    expect(pending.rows.map((r) => r[0])).toEqual(["order_number", plain.number]); // an unpaid order has no tickets yet
    await payOrder(tricky, customer.token);
    const d = await download(ticketsCsv(), owner());
    expect(d.status).toBe(200);
    expect([...d.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = d.rows;
    expect(header).toEqual(["order_number", "ticket", "holder_name", "holder_email", "product", "code", "status", "checked_in_at", "order_status"]);
    const code = (o: { id: string; number: string }, i: number) => ticketCode(o, i, TEST_AUTH_SECRET);
    expect(rows).toEqual([
      [plain.number, "1", "Plain Buyer", "plain@csv.test", X.products[0].name, code(plain, 1), "VALID", "", "PAID"],
      [tricky.number, "1", `'=HYPERLINK("http://evil.test")`, "'+1@csv.test", 'Gala, "VIP"', code(tricky, 1), "VALID", "", "PAID"],
      [tricky.number, "2", "'@SUM(A1)", "'-x@csv.test", 'Gala, "VIP"', code(tricky, 2), "VALID", "", "PAID"],
    ]);
    expect((await download(ticketsCsv("?search=smith"), owner())).rows.length).toBe(3);
  });
});

describe("who may export", () => {
  let coorganizer: Account, key: string;
  beforeAll(async () => {
    [coorganizer, key] = await Promise.all([member(X, "COORGANIZER"), apiKey(X)]);
  });

  it("COORGANIZER+ and the brand's key get the file", async () => {
    expect((await download(ordersCsv(), { token: coorganizer.token })).status).toBe(200);
    expect((await download(ticketsCsv(), { apiKey: key })).status).toBe(200);
  });

  it("401 without or with invalid credentials (also for a brand that does not exist)", async () => {
    for (const path of [ordersCsv(), ticketsCsv(), "/brands/00000000-0000-4000-8000-000000000000/orders.csv"]) {
      expect((await download(path)).status).toBe(401);
      expect((await download(path, { token: "forged" })).status).toBe(401);
      expect((await download(path, { apiKey: "olk_forged" })).status).toBe(401);
    }
  });

  it("404 alike for another brand's staff, a customer, an unknown brand and a malformed id", async () => {
    const anonymousSession = (await ok(`mutation { startAnonymousSession { token } }`)).startAnonymousSession.token;
    for (const [path, auth] of [
      [ordersCsv(), { token: Y.owner.token }],
      [ticketsCsv(), { token: customer.token }],
      ["/brands/00000000-0000-4000-8000-000000000000/orders.csv", owner()],
      ["/brands/not-a-uuid/tickets.csv", owner()],
    ] as const) {
      const d = await download(path, auth);
      expect([path, d.status, d.json?.code]).toEqual([path, 404, "NOT_FOUND"]);
    }
    // An anonymous session is nobody's staff and has no export budget: 401.
    expect((await download(ordersCsv(), { token: anonymousSession })).status).toBe(401);
  });

  it("counts exports exactly: 30 per 10 minutes per caller, then 429 with Retry-After", async () => {
    const staff = await member(X, "ORGANIZER");
    const ip = testClientIp();
    const statuses: number[] = [];
    // In pairs (the concurrency cap is 2 per caller): 32 calls, exactly 30 files.
    for (let i = 0; i < 16; i++)
      statuses.push(...(await Promise.all([0, 1].map(() => download(ordersCsv(), { token: staff.token, ip })))).map((d) => d.status));
    expect(statuses.filter((s) => s === 200).length).toBe(30);
    expect(statuses.filter((s) => s === 429).length).toBe(2);
    const refused = await download(ordersCsv(), { token: staff.token, ip });
    expect([refused.status, refused.json?.code]).toEqual([429, "RATE_LIMITED"]);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("a large export", () => {
  let api: ApiProcess;
  let Z: BrandSetup;
  let template: Awaited<ReturnType<typeof placeOrder>>;
  const ORDERS = 5_000;
  const ATTENDEES = 100;
  const HEAP_MB = 128;
  afterAll(async () => api?.stop());

  beforeAll(async () => {
    // Its own API process, its memory this export's alone, with a heap (128 MB) smaller than the
    // file and its orders together: an export held in memory ends in "heap out of memory".
    [Z, api] = await Promise.all([
      brandWithProducts(),
      startApi({ DATABASE_URL: inject("databaseUrl"), TRUST_PROXY: "loopback", NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` }),
    ]);
    const attendees = Array.from({ length: ATTENDEES }, (_, i) => ({ name: `Holder ${i}`, email: `holder-${i}@bulk.test` }));
    template = await placeOrder(Z, customer.token, { attendees });
    // 5,000 orders through the API would take minutes; copies of a real one, made with SQL.
    await db().query(
      `insert into orders (id, created_at, number, brand_id, customer_id, status, buyer_name, buyer_email, attendees, lines, subtotal, discount_total, total, currency, expires_at)
       select gen_random_uuid(), o.created_at - g * interval '1 second', 'BK' || lpad(g::text, 6, '0') || substr(md5(o.id::text), 1, 6), o.brand_id, o.customer_id,
              'CANCELLED', 'Bulk Buyer ' || g, 'bulk-' || g || '@bulk.test', o.attendees, o.lines, o.subtotal, o.discount_total, o.total, o.currency, o.expires_at
         from orders o, generate_series(1, $2::int - 1) g where o.id = $1`,
      [template.id, ORDERS],
    );
    // Their tickets, as payment would have written them (tickets.csv lists the stored tickets).
    await db().query(TICKETS_OF_BRAND_ORDERS, [Z.brandId]);
  }, 120_000);

  /** One ticket per attendee (or the buyer's one) of every order of the brand that has none yet, as issueTickets would write them. */
  const TICKETS_OF_BRAND_ORDERS = `insert into ticket (id, brand_id, order_id, product_id, "index", holder_name, holder_email, code)
    select gen_random_uuid(), o.brand_id, o.id, (o.lines -> 0 ->> 'productId')::uuid, h.i, h.p ->> 'name', h.p ->> 'email', o.number || '-' || h.i || '-' || substr(md5(o.id::text || h.i), 1, 10)
      from orders o
      cross join lateral jsonb_array_elements(case when jsonb_array_length(o.attendees) > 0 then o.attendees
                                                   else jsonb_build_array(jsonb_build_object('name', o.buyer_name, 'email', o.buyer_email)) end) with ordinality h(p, i)
     where o.brand_id = $1 and not exists (select 1 from ticket t where t.order_id = o.id)`;

  const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

  /** Reads a download to its end (calling `onFirst` once the first bytes are in); the server's RSS sampled every 50 chunks. */
  async function drain(path: string, onFirst: () => Promise<void> = async () => {}) {
    const before = rssOf(api.pid);
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${Z.owner.token}` } });
    expect(res.status).toBe(200);
    let bytes = 0;
    let chunks = 0;
    let text = "";
    let records = 0;
    let peak = before;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (chunks++ === 0) await onFirst();
      bytes += value.length;
      const part = decoder.decode(value, { stream: true });
      // Only the record count and the last records are kept (the test's own memory stays small).
      text = (text + part).slice(-4096);
      records += part.split("\n").length - 1;
      if (chunks % 50 === 0) peak = Math.max(peak, rssOf(api.pid));
    }
    return { bytes, chunks, records, tail: text, before, growth: Math.max(peak, rssOf(api.pid)) - before };
  }

  it("streams 500,000 ticket rows (54 MB) in chunks, read in batches after the first bytes are sent, under a 128 MB heap", async () => {
    // An order older than all others is read in the last batch: inserted once the first bytes are
    // in, it is in the file only if the server had not read every batch before it began to send.
    const late = `LATE${randomUUID().slice(0, 8)}`;
    const insertLate = async () => {
      await db().query(
        `insert into orders (id, created_at, number, brand_id, customer_id, status, buyer_name, buyer_email, attendees, lines, subtotal, discount_total, total, currency, expires_at)
         select gen_random_uuid(), o.created_at - interval '1 day', $2, o.brand_id, o.customer_id, 'CANCELLED', 'Late Buyer', 'late@bulk.test', '[]', o.lines,
                o.subtotal, o.discount_total, o.total, o.currency, o.expires_at
           from orders o where o.id = $1`,
        [template.id, late],
      );
      await db().query(TICKETS_OF_BRAND_ORDERS, [Z.brandId]); // the late order's one ticket (the buyer's)
    };
    const whole = await drain(`/brands/${Z.brandId}/tickets.csv`, insertLate);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    console.log(
      `tickets.csv: ${whole.records - 1} rows, ${mb(whole.bytes)} MB in ${whole.chunks} chunks; server RSS ${mb(whole.before)} MB, +${mb(whole.growth)} MB at most`,
    );
    expect(whole.records).toBe(ORDERS * ATTENDEES + 1 + 1);
    expect(whole.tail.trimEnd().split("\r\n").at(-1)).toMatch(new RegExp(`^${late},1,Late Buyer,late@bulk.test,`));
    expect(whole.chunks).toBeGreaterThan(100);
    expect(whole.bytes).toBeGreaterThan(HEAP_MB * 0.4 * 1e6);
  }, 60_000);

  it("runs at most 2 exports at once per caller and 4 per instance, counted exactly under concurrent calls, and frees a slot when a download is dropped", async () => {
    const open = async (token: string) => {
      const res = await fetch(`${api.url}/brands/${Z.brandId}/tickets.csv`, { headers: { authorization: `Bearer ${token}` } });
      // An accepted download is left unread: the export waits for the socket to drain, so its slot stays taken.
      return { status: res.status, body: res.status === 200 ? res.body! : null, json: res.status === 200 ? null : ((await res.json()) as { code: string }) };
    };
    const drop = (downloads: Awaited<ReturnType<typeof open>>[]) => Promise.all(downloads.map((d) => d.body?.cancel()));
    const statuses = (downloads: Awaited<ReturnType<typeof open>>[]) =>
      downloads.map((d) => `${d.status}${d.json ? ` ${d.json.code}` : ""}`).sort((a, b) => a.localeCompare(b));

    // One caller, 10 at once: exactly 2 run, 8 are refused (429) without counting against its budget.
    const one = await Promise.all(Array.from({ length: 10 }, () => open(Z.owner.token)));
    try {
      expect(statuses(one)).toEqual(["200", "200", ...Array(8).fill("429 RATE_LIMITED")]);
    } finally {
      await drop(one);
    }

    // Three callers, 3 each at once: at most 2 per caller and 4 in all; the rest 503 (busy) or 429 (their own cap).
    const callers = [Z.owner.token, (await member(Z, "COORGANIZER")).token, (await member(Z, "ORGANIZER")).token];
    const many = (await Promise.all(callers.map((token) => Promise.all(Array.from({ length: 3 }, () => open(token)))))).flat();
    try {
      expect(many.filter((d) => d.status === 200)).toHaveLength(4);
      for (let c = 0; c < callers.length; c++) expect(many.slice(3 * c, 3 * c + 3).filter((d) => d.status === 200).length).toBeLessThanOrEqual(2);
      expect(many.filter((d) => d.status !== 200).every((d) => ["503 SERVICE_UNAVAILABLE", "429 RATE_LIMITED"].includes(`${d.status} ${d.json?.code}`))).toBe(
        true,
      );
    } finally {
      await drop(many);
    }

    // Dropped downloads give their slots back: the first caller can export again.
    let again: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < 50 && !(again.length === 2 && again.every((d) => d.status === 200)); i++) {
      await drop(again);
      await new Promise((r) => setTimeout(r, 100));
      again = await Promise.all([open(Z.owner.token), open(Z.owner.token)]);
    }
    await drop(again);
    expect(statuses(again)).toEqual(["200", "200"]);
  }, 60_000);
});
