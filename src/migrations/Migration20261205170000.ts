import { Migration } from '@mikro-orm/migrations';

/**
 * Tax and invoices (issue #11): Product.taxRate, Order.taxTotal and each line's taxRate / tax,
 * Brand.invoicePrefix, invoices and credit notes numbered from a per-brand gapless counter
 * (invoice_sequence, taken at commit by the trigger invoice_take_number; see src/services/invoice/numbers.ts).
 *
 * Existing data: every product and order line has rate 0 and tax 0; each brand's prefix is derived
 * from its name (up to 8 letters and digits, upper-cased, else "INV"); each already PAID or
 * FULFILLED order gets its invoice (one 0 % tax line), numbered 1, 2, 3 … per brand in the order
 * of payment, and the brand's counter continues after them.
 */
export class Migration20261205170000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "invoice_kind" as enum ('INVOICE', 'CREDIT_NOTE');`);
    this.addSql(`create table "invoice_sequence" ("brand_id" uuid not null, "last" int not null default 0, constraint "invoice_sequence_pkey" primary key ("brand_id"));`);

    this.addSql(`create table "invoice" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "brand_id" uuid not null, "order_id" uuid not null, "kind" "invoice_kind" not null, "seq" int null, "number" varchar(40) null, "issued_at" timestamptz not null, "total" int not null, "tax_total" int not null, "currency" varchar(3) not null, "tax_lines" jsonb not null, "refund_id" uuid null, "refers_to" varchar(40) null, constraint "invoice_pkey" primary key ("id"));`);
    this.addSql(`alter table "invoice" add constraint "invoice_refund_id_unique" unique ("refund_id");`);
    this.addSql(`create unique index "invoice_one_per_order" on "invoice" ("order_id") where "kind" = 'INVOICE';`);
    this.addSql(`create index "invoice_order_id_seq_index" on "invoice" ("order_id", "seq");`);
    this.addSql(`alter table "invoice" add constraint "invoice_brand_seq_unique" unique ("brand_id", "seq");`);

    this.addSql(`alter table "invoice_sequence" add constraint "invoice_sequence_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "invoice" add constraint "invoice_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "invoice" add constraint "invoice_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);

    // The number is taken when the inserting transaction commits (src/services/invoice/numbers.ts):
    // the counter row is then locked for the commit only. A rollback, or a commit that fails after
    // this ran (e.g. SOLD_OUT from order_quota_hold_counts), gives the number back.
    this.addSql(`create function "invoice_take_number"() returns trigger language plpgsql as $$
declare
  n int;
  p text;
begin
  if new.seq is not null then
    return null;
  end if;
  insert into invoice_sequence (brand_id, last) values (new.brand_id, 1)
    on conflict (brand_id) do update set last = invoice_sequence.last + 1
    returning last into n;
  select invoice_prefix into p from brand where id = new.brand_id;
  update invoice set seq = n, number = p || '-' || case when n < 1000000 then lpad(n::text, 6, '0') else n::text end where id = new.id;
  return null;
end $$;`);
    this.addSql(`create constraint trigger "invoice_take_number" after insert on "invoice" deferrable initially deferred for each row execute function "invoice_take_number"();`);

    this.addSql(`alter table "brand" add column "invoice_prefix" varchar(16) not null default 'INV';`);
    this.addSql(`update "brand" set "invoice_prefix" = coalesce(nullif(left(upper(regexp_replace("name", '[^A-Za-z0-9]', '', 'g')), 8), ''), 'INV');`);

    this.addSql(`alter table "product" add column "tax_rate" int not null default 0;`);

    this.addSql(`alter table "orders" add column "tax_total" int not null default 0;`);

    // Each existing line: rate 0, tax 0 (its discount share is spread again when read: services/order/tax.ts).
    this.addSql(`create function "pg_temp"."untaxed"(ls jsonb) returns jsonb language sql immutable as $$
      select coalesce(jsonb_agg(l || '{"taxRate": 0, "tax": 0}'::jsonb order by n), '[]'::jsonb) from jsonb_array_elements(ls) with ordinality as e(l, n) $$;`);
    this.addSql(`update "orders" set "lines" = pg_temp.untaxed("lines");`);
    // The paid snapshot is immutable (orders_snapshot_immutable); this adds the two zero fields only.
    this.addSql(`alter table "orders" disable trigger "orders_snapshot_immutable";`);
    this.addSql(`update "orders" set "snapshot" = jsonb_set("snapshot", '{lines}', pg_temp.untaxed("snapshot" -> 'lines')) where "snapshot" is not null;`);
    this.addSql(`alter table "orders" enable trigger "orders_snapshot_immutable";`);
    this.addSql(`drop function "pg_temp"."untaxed"(jsonb);`);

    // The invoices of orders paid before: numbered per brand in the order of payment.
    this.addSql(`insert into "invoice" ("id", "brand_id", "order_id", "kind", "seq", "number", "issued_at", "total", "tax_total", "currency", "tax_lines")
      select gen_random_uuid(), p."brand_id", p."id", 'INVOICE', p."n",
             b."invoice_prefix" || '-' || case when p."n" < 1000000 then lpad(p."n"::text, 6, '0') else p."n"::text end,
             p."paid_at", p."total", 0, p."currency", jsonb_build_array(jsonb_build_object('rate', 0, 'net', p."total", 'tax', 0))
        from (select o."id", o."brand_id", o."paid_at", o."total", o."currency", row_number() over (partition by o."brand_id" order by o."paid_at", o."id") as "n"
                from "orders" o where o."status" in ('PAID', 'FULFILLED') and o."paid_at" is not null) p
        join "brand" b on b."id" = p."brand_id";`);
    this.addSql(`insert into "invoice_sequence" ("brand_id", "last") select "brand_id", max("seq") from "invoice" group by "brand_id";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "invoice_take_number" on "invoice";`);
    this.addSql(`drop function if exists "invoice_take_number"();`);
    this.addSql(`drop table if exists "invoice_sequence" cascade;`);
    this.addSql(`drop table if exists "invoice" cascade;`);
    this.addSql(`alter table "brand" drop column "invoice_prefix";`);
    this.addSql(`alter table "orders" drop column "tax_total";`);
    this.addSql(`alter table "product" drop column "tax_rate";`);
    this.addSql(`drop type "invoice_kind";`);
  }

}
