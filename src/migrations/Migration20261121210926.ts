import { Migration } from '@mikro-orm/migrations';

export class Migration20261121210926 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "discount_type" as enum ('PERCENT', 'FIXED_AMOUNT');`);
    this.addSql(`create type "fan_status" as enum ('PENDING_VERIFICATION', 'ACTIVE');`);
    this.addSql(`create type "delivery_status" as enum ('PENDING', 'DELIVERED', 'FAILED');`);
    this.addSql(`create table "discount" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "name" varchar(200) not null, "description" varchar(2000) null, "type" "discount_type" not null, "amount" int not null, "free_shipping" boolean not null default false, "expires_at" timestamptz null, "usage_limit" int not null default 1, "verify_email" boolean not null default false, "fixed_code" varchar(32) null, "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, constraint "discount_pkey" primary key ("id"));`);
    this.addSql(`create index "discount_brand_id_created_at_id_index" on "discount" ("brand_id", "created_at", "id");`);

    this.addSql(`create table "coupon" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "discount_id" uuid not null, "code" varchar(32) not null, "uses" int not null default 0, constraint "coupon_pkey" primary key ("id"));`);
    this.addSql(`create index "coupon_discount_id_index" on "coupon" ("discount_id");`);
    this.addSql(`create unique index "coupon_brand_code_unique" on "coupon" ("brand_id", "code");`);

    this.addSql(`create table "fan" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "discount_id" uuid not null, "name" varchar(200) not null, "email" varchar(320) not null, "facebook_handle" varchar(100) null, "status" "fan_status" not null default 'ACTIVE', "verified_at" timestamptz null, "coupon_id" uuid null, "token_hash" varchar(64) null, "token_expires_at" timestamptz null, "token_used_at" timestamptz null, constraint "fan_pkey" primary key ("id"));`);
    this.addSql(`create index "fan_coupon_id_index" on "fan" ("coupon_id");`);
    this.addSql(`alter table "fan" add constraint "fan_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create unique index "fan_discount_email_unique" on "fan" ("discount_id", lower("email"));`);
    this.addSql(`create index "fan_brand_id_created_at_id_index" on "fan" ("brand_id", "created_at", "id");`);

    this.addSql(`create table "coupon_delivery" ("id" uuid not null, "created_at" timestamptz not null default now(), "brand_id" uuid not null, "fan_id" uuid not null, "url" varchar(2000) not null, "body" text not null, "status" "delivery_status" not null default 'PENDING', "attempts" int not null default 0, "last_error" varchar(1000) null, "delivered_at" timestamptz null, constraint "coupon_delivery_pkey" primary key ("id"));`);
    this.addSql(`create index "coupon_delivery_brand_id_index" on "coupon_delivery" ("brand_id");`);
    this.addSql(`create index "coupon_delivery_fan_id_created_at_index" on "coupon_delivery" ("fan_id", "created_at");`);

    this.addSql(`create table "delivery_attempt" ("id" uuid not null, "created_at" timestamptz not null default now(), "delivery_id" uuid not null, "status_code" int null, "error" varchar(1000) null, "duration_ms" int not null, constraint "delivery_attempt_pkey" primary key ("id"));`);
    this.addSql(`create index "delivery_attempt_delivery_id_created_at_index" on "delivery_attempt" ("delivery_id", "created_at");`);

    this.addSql(`alter table "discount" add constraint "discount_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);

    this.addSql(`alter table "coupon" add constraint "coupon_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "coupon" add constraint "coupon_discount_id_foreign" foreign key ("discount_id") references "discount" ("id") on update cascade;`);

    this.addSql(`alter table "fan" add constraint "fan_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "fan" add constraint "fan_discount_id_foreign" foreign key ("discount_id") references "discount" ("id") on update cascade;`);
    this.addSql(`alter table "fan" add constraint "fan_coupon_id_foreign" foreign key ("coupon_id") references "coupon" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "coupon_delivery" add constraint "coupon_delivery_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "coupon_delivery" add constraint "coupon_delivery_fan_id_foreign" foreign key ("fan_id") references "fan" ("id") on update cascade;`);

    this.addSql(`alter table "delivery_attempt" add constraint "delivery_attempt_delivery_id_foreign" foreign key ("delivery_id") references "coupon_delivery" ("id") on update cascade;`);

    this.addSql(`alter table "orders" add column "coupon_id" uuid null;`);
    this.addSql(`alter table "orders" add constraint "orders_coupon_id_foreign" foreign key ("coupon_id") references "coupon" ("id") on update cascade on delete set null;`);
    this.addSql(`create index "orders_coupon_id_index" on "orders" ("coupon_id");`);

    this.addSql(`alter type "email_kind" add value if not exists 'FAN_VERIFICATION' after 'ORDER_READY';`);

    this.addSql(`alter type "email_kind" add value if not exists 'COUPON' after 'FAN_VERIFICATION';`);

    this.addSql(`alter table "email" add column "fan_id" uuid null;`);
    this.addSql(`alter table "email" add constraint "email_fan_id_foreign" foreign key ("fan_id") references "fan" ("id") on update cascade on delete set null;`);
    this.addSql(`create index "email_fan_id_index" on "email" ("fan_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "coupon" drop constraint "coupon_discount_id_foreign";`);

    this.addSql(`alter table "fan" drop constraint "fan_discount_id_foreign";`);

    this.addSql(`alter table "fan" drop constraint "fan_coupon_id_foreign";`);

    this.addSql(`alter table "orders" drop constraint "orders_coupon_id_foreign";`);

    this.addSql(`alter table "coupon_delivery" drop constraint "coupon_delivery_fan_id_foreign";`);

    this.addSql(`alter table "email" drop constraint "email_fan_id_foreign";`);

    this.addSql(`alter table "delivery_attempt" drop constraint "delivery_attempt_delivery_id_foreign";`);

    this.addSql(`drop table if exists "discount" cascade;`);

    this.addSql(`drop table if exists "coupon" cascade;`);

    this.addSql(`drop table if exists "fan" cascade;`);

    this.addSql(`drop table if exists "coupon_delivery" cascade;`);

    this.addSql(`drop table if exists "delivery_attempt" cascade;`);

    this.addSql(`drop index "email_fan_id_index";`);
    this.addSql(`alter table "email" drop column "fan_id";`);

    this.addSql(`drop index "orders_coupon_id_index";`);
    this.addSql(`alter table "orders" drop column "coupon_id";`);

    this.addSql(`drop type "discount_type";`);
    this.addSql(`drop type "fan_status";`);
    this.addSql(`drop type "delivery_status";`);
  }

}
