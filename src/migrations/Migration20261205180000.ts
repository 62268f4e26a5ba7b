import { Migration } from '@mikro-orm/migrations';

/**
 * Refunds (issue #11): the REFUNDED order status, the refund table (one row per refund of a payment
 * attempt, PENDING until the provider reports), the refund webhook events (idempotency by event
 * id), the order's refunded total (never above its total: a check constraint) and the two emails.
 */
export class Migration20261205180000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter type "order_status" add value if not exists 'REFUNDED' after 'EXPIRED';`);
    this.addSql(`alter type "email_kind" add value if not exists 'REFUND' after 'BRAND_INVITATION';`);
    this.addSql(`alter type "email_kind" add value if not exists 'PAYMENT_REFUNDED' after 'REFUND';`);
    this.addSql(`create type "refund_status" as enum ('PENDING', 'SUCCEEDED', 'FAILED');`);
    this.addSql(`create type "refund_source" as enum ('BRAND', 'PROVIDER', 'AUTOMATIC');`);

    this.addSql(`alter table "orders" add column "refunded_total" int not null default 0, add column "refunded_at" timestamptz null;`);
    this.addSql(`alter table "orders" add constraint orders_refunded_total_check check (refunded_total >= 0 and refunded_total <= total);`);

    this.addSql(`create table "refund" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "order_id" uuid not null, "payment_attempt_id" uuid not null, "amount" int not null, "currency" varchar(3) not null, "status" "refund_status" not null default 'PENDING', "source" "refund_source" not null, "reason" varchar(500) null, "external_id" varchar(100) null, "attempts" int not null default 0, "last_error" varchar(1000) null, "updated_at" timestamptz not null default now(), constraint "refund_pkey" primary key ("id"), constraint refund_amount_check check (amount > 0));`);
    this.addSql(`create index "refund_order_id_created_at_index" on "refund" ("order_id", "created_at");`);
    this.addSql(`create index "refund_payment_attempt_id_index" on "refund" ("payment_attempt_id");`);
    this.addSql(`alter table "refund" add constraint "refund_external_id_unique" unique ("external_id");`);
    this.addSql(`alter table "refund" add constraint "refund_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);
    this.addSql(`alter table "refund" add constraint "refund_payment_attempt_id_foreign" foreign key ("payment_attempt_id") references "payment_attempt" ("id") on update cascade;`);

    this.addSql(`create table "refund_webhook_event" ("id" varchar(200) not null, "outcome" varchar(500) not null, "received_at" timestamptz not null default now(), constraint "refund_webhook_event_pkey" primary key ("id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "refund_webhook_event" cascade;`);
    this.addSql(`drop table if exists "refund" cascade;`);
    this.addSql(`alter table "orders" drop constraint if exists orders_refunded_total_check;`);
    this.addSql(`alter table "orders" drop column "refunded_total", drop column "refunded_at";`);
    this.addSql(`drop type "refund_source";`);
    this.addSql(`drop type "refund_status";`);
    // PostgreSQL cannot drop a value from an enum type: 'REFUNDED', 'REFUND' and 'PAYMENT_REFUNDED' stay.
  }

}
