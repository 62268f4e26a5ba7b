import { Migration } from '@mikro-orm/migrations';

export class Migration20261121203400 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "payment_attempt_status" as enum ('CREATED', 'PENDING', 'PAID', 'FAILED', 'CANCELLED');`);
    this.addSql(`create type "order_status" as enum ('PENDING', 'PAID', 'FULFILLED', 'CANCELLED', 'EXPIRED');`);
    this.addSql(`create type "brand_role" as enum ('OWNER', 'ORGANIZER', 'COORGANIZER');`);
    this.addSql(`create table "brand" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(200) not null, "currency" varchar(3) not null, "coupon_webhook_url" varchar(2000) null, "webhook_secret" varchar(100) not null, constraint "brand_pkey" primary key ("id"));`);

    this.addSql(`create table "payment_webhook_event" ("id" varchar(200) not null, "attempt_external_id" varchar(100) not null, "status" "payment_attempt_status" not null, "outcome" varchar(500) not null, "received_at" timestamptz not null default now(), constraint "payment_webhook_event_pkey" primary key ("id"));`);

    this.addSql(`create table "product" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "name" varchar(200) not null, "unit_price" int not null, "currency" varchar(3) not null, constraint "product_pkey" primary key ("id"));`);
    this.addSql(`create index "product_brand_id_created_at_index" on "product" ("brand_id", "created_at");`);

    this.addSql(`create table "users" ("id" uuid not null, "created_at" timestamptz not null default now(), "email" varchar(320) null, "name" varchar(200) null, "password_hash" varchar(255) null, "is_admin" boolean not null default false, "anonymous" boolean not null default false, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`create unique index "users_email_unique" on "users" (lower("email"));`);

    this.addSql(`create table "orders" ("id" uuid not null, "created_at" timestamptz not null default now(), "number" varchar(20) not null, "brand_id" uuid not null, "customer_id" uuid null, "status" "order_status" not null default 'PENDING', "seq" int not null default 0, "buyer_name" varchar(200) not null, "buyer_email" varchar(320) not null, "attendees" jsonb not null default '[]', "lines" jsonb not null, "subtotal" int not null, "discount_total" int not null default 0, "total" int not null, "currency" varchar(3) not null, "coupon_code" varchar(64) null, "expires_at" timestamptz not null, "paid_at" timestamptz null, "fulfilled_at" timestamptz null, "snapshot" jsonb null, constraint "orders_pkey" primary key ("id"));`);
    this.addSql(`alter table "orders" add constraint "orders_number_unique" unique ("number");`);
    this.addSql(`create index "orders_pending_expiry" on "orders" ("expires_at") where "status" = 'PENDING';`);
    this.addSql(`create index "orders_customer_page" on "orders" ("customer_id", "created_at", "id");`);
    this.addSql(`create index "orders_brand_page" on "orders" ("brand_id", "created_at", "id");`);

    this.addSql(`create table "payment_attempt" ("id" uuid not null, "created_at" timestamptz not null default now(), "order_id" uuid not null, "external_id" varchar(100) not null, "status" "payment_attempt_status" not null default 'CREATED', "amount" int not null, "currency" varchar(3) not null, "flagged" boolean not null default false, "flag_reason" varchar(500) null, "updated_at" timestamptz not null default now(), constraint "payment_attempt_pkey" primary key ("id"));`);
    this.addSql(`alter table "payment_attempt" add constraint "payment_attempt_external_id_unique" unique ("external_id");`);
    this.addSql(`create unique index "payment_attempt_one_paid_per_order" on "payment_attempt" ("order_id") where "status" = 'PAID' and not "flagged";`);
    this.addSql(`create index "payment_attempt_order_id_created_at_index" on "payment_attempt" ("order_id", "created_at");`);

    this.addSql(`create table "order_event" ("id" uuid not null, "created_at" timestamptz not null default now(), "order_id" uuid not null, "from" "order_status" null, "to" "order_status" not null, "at" timestamptz not null, "actor" varchar(100) null, constraint "order_event_pkey" primary key ("id"));`);
    this.addSql(`create index "order_event_order_id_at_index" on "order_event" ("order_id", "at");`);

    this.addSql(`create table "brand_member" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "user_id" uuid not null, "role" "brand_role" not null, constraint "brand_member_pkey" primary key ("id"));`);
    this.addSql(`create index "brand_member_brand_id_index" on "brand_member" ("brand_id");`);
    this.addSql(`create index "brand_member_user_id_index" on "brand_member" ("user_id");`);
    this.addSql(`alter table "brand_member" add constraint "brand_member_brand_id_user_id_unique" unique ("brand_id", "user_id");`);

    this.addSql(`create table "api_key" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "created_by_id" uuid not null, "secret_hash" varchar(64) not null, "revoked_at" timestamptz null, constraint "api_key_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_brand_id_index" on "api_key" ("brand_id");`);
    this.addSql(`create index "api_key_created_by_id_index" on "api_key" ("created_by_id");`);

    this.addSql(`alter table "product" add constraint "product_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);

    this.addSql(`alter table "orders" add constraint "orders_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "orders" add constraint "orders_customer_id_foreign" foreign key ("customer_id") references "users" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "payment_attempt" add constraint "payment_attempt_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);

    this.addSql(`alter table "order_event" add constraint "order_event_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);

    this.addSql(`alter table "brand_member" add constraint "brand_member_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "brand_member" add constraint "brand_member_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade;`);

    this.addSql(`alter table "api_key" add constraint "api_key_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "api_key" add constraint "api_key_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade;`);

    // Hand-added: a paid order's snapshot is immutable, enforced by the database itself.
    this.addSql(`create function "orders_snapshot_immutable"() returns trigger language plpgsql as $$
begin
  if old."snapshot" is not null and new."snapshot" is distinct from old."snapshot" then
    raise exception 'orders.snapshot is immutable once taken';
  end if;
  return new;
end $$;`);
    this.addSql(`create trigger "orders_snapshot_immutable" before update of "snapshot" on "orders" for each row execute function "orders_snapshot_immutable"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "orders_snapshot_immutable" on "orders";`);
    this.addSql(`drop function if exists "orders_snapshot_immutable"();`);
    this.addSql(`alter table "product" drop constraint "product_brand_id_foreign";`);

    this.addSql(`alter table "orders" drop constraint "orders_brand_id_foreign";`);

    this.addSql(`alter table "brand_member" drop constraint "brand_member_brand_id_foreign";`);

    this.addSql(`alter table "api_key" drop constraint "api_key_brand_id_foreign";`);

    this.addSql(`alter table "orders" drop constraint "orders_customer_id_foreign";`);

    this.addSql(`alter table "brand_member" drop constraint "brand_member_user_id_foreign";`);

    this.addSql(`alter table "api_key" drop constraint "api_key_created_by_id_foreign";`);

    this.addSql(`alter table "payment_attempt" drop constraint "payment_attempt_order_id_foreign";`);

    this.addSql(`alter table "order_event" drop constraint "order_event_order_id_foreign";`);

    this.addSql(`drop table if exists "brand" cascade;`);

    this.addSql(`drop table if exists "payment_webhook_event" cascade;`);

    this.addSql(`drop table if exists "product" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "orders" cascade;`);

    this.addSql(`drop table if exists "payment_attempt" cascade;`);

    this.addSql(`drop table if exists "order_event" cascade;`);

    this.addSql(`drop table if exists "brand_member" cascade;`);

    this.addSql(`drop table if exists "api_key" cascade;`);

    this.addSql(`drop type "payment_attempt_status";`);
    this.addSql(`drop type "order_status";`);
    this.addSql(`drop type "brand_role";`);
  }

}
