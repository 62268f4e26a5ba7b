import { Migration } from '@mikro-orm/migrations';

/**
 * Order search (issue #16): a trigram index over each order's search text, so that searchOrders
 * finds a fragment of a number, a name or an email among a million orders without a scan.
 *
 * The search text is an expression (no column to keep in step): `order_search_text` lower-cases
 * the number, the buyer's name and email and every attendee's name and email, separated by
 * spaces. Whoever writes an order (createOrder, the seed, a bulk insert) keeps the index right.
 * pg_trgm ships with PostgreSQL (a trusted extension: the database owner may create it); on a
 * managed DATABASE_URL the extension must be available to that user (README "Search").
 * The query must call the function with exactly these arguments (SEARCH_TEXT in order.repository.ts).
 */
export class Migration20261205210000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`create function "order_search_text"("number" text, "buyer_name" text, "buyer_email" text, "attendees" jsonb) returns text
  language sql immutable parallel safe as $$
    select lower("number" || ' ' || "buyer_name" || ' ' || "buyer_email" || coalesce(
      (select string_agg(' ' || coalesce(a ->> 'name', '') || ' ' || coalesce(a ->> 'email', ''), '') from jsonb_array_elements("attendees") a), ''))
  $$;`);
    this.addSql(`create index "orders_search" on "orders" using gin (order_search_text("number", "buyer_name", "buyer_email", "attendees") gin_trgm_ops);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "orders_search";`);
    this.addSql(`drop function if exists "order_search_text"(text, text, text, jsonb);`);
  }

}
