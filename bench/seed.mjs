// Seeds the benchmark database: the account, brands and products through the API (so the
// password is hashed and memberships are made as in real use), then orders, payment attempts,
// events, discounts and coupons in bulk SQL for those brands.
import pg from "pg";
import { CREATE_BRAND, CREATE_PRODUCT, LOG_IN, SIGN_UP } from "./queries.mjs";
import { gql } from "./lib.mjs";

export const OWNER_EMAIL = "bench-owner@example.test";
export const OWNER_PASSWORD = "bench-password-0123456789";
const PRODUCTS_PER_BRAND = 5;

/**
 * Status by i % 25 (i = 1..ordersPerBrand): 0-2 PENDING (12 %), 3 CANCELLED, 4 EXPIRED (4 % each),
 * 5-6 FULFILLED (8 %), the rest PAID (72 %). PENDING orders are the newest (the top of page 1), with a
 * PENDING payment attempt each (the fan-out pays them through the webhook).
 */
const SEED_SQL = `
create temp table bench_o on commit drop as
with b as (
  select id as brand_id, (ord - 1)::int as bi from unnest($1::uuid[]) with ordinality as t(id, ord)
), p as (
  select brand_id, id, name, unit_price,
         (row_number() over (partition by brand_id order by created_at, id) - 1)::int as pi
    from product where brand_id = any($1::uuid[])
), base as (
  select gen_random_uuid() as id, b.brand_id, b.bi, i,
         (case when i % 25 in (0, 1, 2) then 'PENDING' when i % 25 = 3 then 'CANCELLED' when i % 25 = 4 then 'EXPIRED'
               when i % 25 in (5, 6) then 'FULFILLED' else 'PAID' end)::order_status as status
    from b cross join generate_series(1, $2::int) i
), timed as (
  select base.*,
         case when status = 'PENDING'
              then date_trunc('milliseconds', $3::timestamptz) - i * interval '1 second' - ((i * 7919 + bi * 131) % 1000) * interval '1 millisecond'
              else date_trunc('milliseconds', $3::timestamptz) - interval '1 hour' - i * interval '2 hours 13 minutes'
                   - ((i * 7919 + bi * 131) % 60000) * interval '1 millisecond' end as created_at
    from base
), lined as (
  select t.id,
         jsonb_agg(jsonb_build_object('productId', p.id, 'productName', p.name, 'unitPrice', p.unit_price,
                                      'quantity', 1 + (t.i * 7 + k) % 4, 'total', p.unit_price * (1 + (t.i * 7 + k) % 4)) order by k) as lines,
         sum(p.unit_price * (1 + (t.i * 7 + k) % 4))::int as subtotal
    from timed t cross join generate_series(0, t.i % 3) k
    join p on p.brand_id = t.brand_id and p.pi = (t.i + k) % ${PRODUCTS_PER_BRAND}
   group by t.id
), priced as (
  select t.*, l.lines, l.subtotal,
         case when t.i % 10 = 7 then c.id end as coupon_id,
         case when t.i % 10 = 7 then c.code end as coupon_code,
         case when t.i % 10 = 7 then least(l.subtotal, (l.subtotal * 10 + 50) / 100) else 0 end as discount_total
    from timed t join lined l on l.id = t.id
    left join coupon c on c.brand_id = t.brand_id and c.code = 'SAVE10'
)
select *, subtotal - discount_total as total,
       case when status in ('PAID', 'FULFILLED') then created_at + interval '3 minutes' end as paid_at,
       case when status = 'FULFILLED' then created_at + interval '2 days' end as fulfilled_at
  from priced;

insert into orders (id, created_at, number, brand_id, customer_id, status, seq, buyer_name, buyer_email, attendees,
                    lines, subtotal, discount_total, total, currency, coupon_code, coupon_id, expires_at, paid_at, fulfilled_at, snapshot)
select id, created_at, 'BN' || lpad(bi::text, 2, '0') || '-' || lpad(i::text, 6, '0'), brand_id, null, status,
       case status when 'PENDING' then 0 when 'FULFILLED' then 2 else 1 end,
       'Buyer ' || i, 'buyer' || i || '@example.test', '[]'::jsonb,
       lines, subtotal, discount_total, total, 'EUR', coupon_code, coupon_id,
       case when status = 'PENDING' then $3::timestamptz + interval '7 days' else created_at + interval '30 minutes' end,
       paid_at, fulfilled_at,
       case when paid_at is not null then jsonb_build_object(
         'takenAt', to_char(paid_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'lines', lines,
         'subtotal', subtotal, 'discountTotal', discount_total, 'total', total, 'currency', 'EUR', 'couponCode', coupon_code) end
  from bench_o;

insert into payment_attempt (id, created_at, order_id, external_id, status, amount, currency, flagged, updated_at)
select gen_random_uuid(), created_at + interval '1 minute', id, 'cs_live_bench_f_' || replace(id::text, '-', ''), 'FAILED'::payment_attempt_status, total, 'EUR', false, created_at + interval '90 seconds'
  from bench_o where status in ('PAID', 'FULFILLED') and i % 5 = 0
union all
select gen_random_uuid(), created_at + interval '2 minutes', id, 'cs_live_bench_p_' || replace(id::text, '-', ''), 'PAID'::payment_attempt_status, total, 'EUR', false, paid_at
  from bench_o where status in ('PAID', 'FULFILLED')
union all
select gen_random_uuid(), created_at + interval '1 minute', id, 'cs_live_bench_w_' || replace(id::text, '-', ''), 'PENDING'::payment_attempt_status, total, 'EUR', false, created_at + interval '1 minute'
  from bench_o where status = 'PENDING'
union all
select gen_random_uuid(), created_at + interval '1 minute', id, 'cs_live_bench_c_' || replace(id::text, '-', ''), 'CANCELLED'::payment_attempt_status, total, 'EUR', false, created_at + interval '10 minutes'
  from bench_o where status = 'CANCELLED' and i % 2 = 0;

insert into order_event (id, created_at, order_id, "from", "to", at, actor)
select gen_random_uuid(), created_at, id, null::order_status, 'PENDING'::order_status, created_at, 'user:' || $4::text from bench_o
union all
select gen_random_uuid(), paid_at, id, 'PENDING'::order_status, 'PAID'::order_status, paid_at, 'payment-provider' from bench_o where paid_at is not null
union all
select gen_random_uuid(), fulfilled_at, id, 'PAID'::order_status, 'FULFILLED'::order_status, fulfilled_at, 'user:' || $4::text from bench_o where fulfilled_at is not null
union all
select gen_random_uuid(), created_at + interval '10 minutes', id, 'PENDING'::order_status, 'CANCELLED'::order_status, created_at + interval '10 minutes', 'user:' || $4::text from bench_o where status = 'CANCELLED'
union all
select gen_random_uuid(), created_at + interval '31 minutes', id, 'PENDING'::order_status, 'EXPIRED'::order_status, created_at + interval '31 minutes', 'system' from bench_o where status = 'EXPIRED';

update coupon c set uses = (select count(*) from orders o where o.coupon_id = c.id and o.status not in ('CANCELLED', 'EXPIRED'))
 where c.brand_id = any($1::uuid[]);
`;

const DISCOUNT_SQL = `
insert into discount (id, created_at, brand_id, name, type, amount, usage_limit, fixed_code, updated_at)
select gen_random_uuid(), now() - interval '120 days', b, 'Ten percent off', 'PERCENT'::discount_type, 10, 1000000, 'SAVE10', now() from unnest($1::uuid[]) b
union all
select gen_random_uuid(), now() - interval '100 days', b, 'Five euros off', 'FIXED_AMOUNT'::discount_type, 500, 1000000, 'FIVEOFF', now() from unnest($1::uuid[]) b;
insert into coupon (id, created_at, brand_id, discount_id, code, uses)
select gen_random_uuid(), d.created_at, d.brand_id, d.id, d.fixed_code, 0 from discount d where d.brand_id = any($1::uuid[]);
`;

/** Runs several statements with parameters in one transaction (pg's extended protocol takes one statement at a time). */
async function runStatements(client, sql, params) {
  const statements = sql
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of statements) {
    const used = [...new Set([...s.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))];
    // Each statement gets exactly the parameters it names, renumbered.
    const map = new Map(used.sort((a, b) => a - b).map((n, i) => [n, i + 1]));
    const text = s.replace(/\$(\d+)/g, (_, n) => `$${map.get(Number(n))}`);
    await client.query(
      text,
      [...map.keys()].map((n) => params[n - 1]),
    );
  }
}

/**
 * Seeds `brands` brands × `ordersPerBrand` orders. Returns what the scenarios need: the owner's
 * token, brands with products, order ids to rotate over, and PENDING attempts of brand 0.
 */
export async function seed({ api, databaseUrl, brands = 10, ordersPerBrand = 500 }) {
  const started = performance.now();
  // Through the API: the account (scrypt hash), its brands (OWNER membership) and products.
  const signUp = await gql(api, SIGN_UP, { input: { email: OWNER_EMAIL, password: OWNER_PASSWORD, name: "Bench Owner" } });
  const ownerId = signUp.signUp.user.id;
  const { logIn } = await gql(api, LOG_IN, { email: OWNER_EMAIL, password: OWNER_PASSWORD });
  const token = logIn.token;
  const brandList = [];
  for (let b = 0; b < brands; b++) {
    const { createBrand } = await gql(api, CREATE_BRAND, { input: { name: `Bench Brand ${b}`, currency: "EUR" } }, token);
    const products = [];
    for (let p = 0; p < PRODUCTS_PER_BRAND; p++) {
      const { createProduct } = await gql(
        api,
        CREATE_PRODUCT,
        { input: { brandId: createBrand.id, name: `Product ${b}.${p}`, unitPrice: 500 + 250 * p + 10 * b } },
        token,
      );
      products.push(createProduct);
    }
    brandList.push({ id: createBrand.id, products });
  }
  const apiMs = performance.now() - started;

  // Bulk SQL for everything else.
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const brandIds = brandList.map((b) => b.id);
    const sqlStarted = performance.now();
    await client.query("begin");
    await runStatements(client, DISCOUNT_SQL, [brandIds]);
    await runStatements(client, SEED_SQL, [brandIds, ordersPerBrand, new Date().toISOString(), ownerId]);
    await client.query("commit");
    await client.query("analyze");
    const sqlMs = performance.now() - sqlStarted;

    const counts = {};
    for (const t of ["orders", "payment_attempt", "order_event", "discount", "coupon", "product", "brand", "brand_member", "users"]) {
      counts[t] = (await client.query(`select count(*)::int as n from "${t}"`)).rows[0].n;
    }
    const byStatus = Object.fromEntries(
      (await client.query(`select status::text, count(*)::int as n from orders group by 1 order by 1`)).rows.map((r) => [r.status, r.n]),
    );
    const orderIds = (await client.query(`select id from orders order by md5(id::text) limit 1000`)).rows.map((r) => r.id);
    const pending = (
      await client.query(
        `select a.external_id, a.amount, a.currency, o.id as order_id
           from payment_attempt a join orders o on o.id = a.order_id
          where o.brand_id = $1 and o.status = 'PENDING' and a.status = 'PENDING'
          order by o.created_at desc`,
        [brandIds[0]],
      )
    ).rows.map((r) => ({ externalId: r.external_id, amount: r.amount, currency: r.currency, orderId: r.order_id }));
    return {
      token,
      ownerId,
      brands: brandList,
      orderIds,
      pending,
      counts,
      byStatus,
      ms: { api: apiMs, sql: sqlMs, total: performance.now() - started },
    };
  } catch (e) {
    await client.query("rollback").catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}
