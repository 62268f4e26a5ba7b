import { Migration } from '@mikro-orm/migrations';

/**
 * Order webhooks and password reset (issue #12/16). Coupon deliveries become webhook deliveries of
 * two kinds (COUPON, ORDER) in one table with one job and one list of tries; Brand.orderWebhookUrl;
 * password_reset rows (token stored hashed) and their email kind.
 */
export class Migration20261205220000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "coupon_delivery" rename to "webhook_delivery";`);
    this.addSql(`alter table "webhook_delivery" rename constraint "coupon_delivery_pkey" to "webhook_delivery_pkey";`);
    this.addSql(`alter table "webhook_delivery" rename constraint "coupon_delivery_brand_id_foreign" to "webhook_delivery_brand_id_foreign";`);
    // fan_id becomes nullable (order deliveries have none): its foreign key as the ORM makes it for a nullable reference.
    this.addSql(`alter table "webhook_delivery" drop constraint "coupon_delivery_fan_id_foreign";`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_fan_id_foreign" foreign key ("fan_id") references "fan" ("id") on update cascade on delete set null;`);
    this.addSql(`alter index "coupon_delivery_brand_id_index" rename to "webhook_delivery_brand_id_index";`);
    this.addSql(`alter index "coupon_delivery_fan_id_created_at_index" rename to "webhook_delivery_fan_id_created_at_index";`);
    this.addSql(`create type "webhook_kind" as enum ('COUPON', 'ORDER');`);
    this.addSql(`alter table "webhook_delivery" add column "kind" "webhook_kind" not null default 'COUPON', add column "order_id" uuid null, add column "event" varchar(40) null;`);
    this.addSql(`alter table "webhook_delivery" alter column "fan_id" drop not null;`);
    this.addSql(`update "webhook_delivery" set "event" = 'coupon.issued';`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete set null;`);
    this.addSql(`create index "webhook_delivery_order_id_created_at_index" on "webhook_delivery" ("order_id", "created_at");`);

    this.addSql(`alter table "brand" add column "order_webhook_url" varchar(2000) null;`);

    this.addSql(`create table "password_reset" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "email" varchar(320) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "password_reset_pkey" primary key ("id"));`);
    this.addSql(`alter table "password_reset" add constraint "password_reset_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "password_reset_email_index" on "password_reset" ("email");`);

    this.addSql(`alter type "email_kind" add value if not exists 'PASSWORD_RESET' after 'BRAND_INVITATION';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "password_reset" cascade;`);
    this.addSql(`alter table "brand" drop column "order_webhook_url";`);
    this.addSql(`delete from "delivery_attempt" where "delivery_id" in (select "id" from "webhook_delivery" where "kind" = 'ORDER');`);
    this.addSql(`delete from "webhook_delivery" where "kind" = 'ORDER';`);
    this.addSql(`drop index "webhook_delivery_order_id_created_at_index";`);
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_order_id_foreign";`);
    this.addSql(`alter table "webhook_delivery" alter column "fan_id" set not null;`);
    this.addSql(`alter table "webhook_delivery" drop column "kind", drop column "order_id", drop column "event";`);
    this.addSql(`drop type "webhook_kind";`);
    this.addSql(`alter index "webhook_delivery_fan_id_created_at_index" rename to "coupon_delivery_fan_id_created_at_index";`);
    this.addSql(`alter index "webhook_delivery_brand_id_index" rename to "coupon_delivery_brand_id_index";`);
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_fan_id_foreign";`);
    this.addSql(`alter table "webhook_delivery" add constraint "coupon_delivery_fan_id_foreign" foreign key ("fan_id") references "fan" ("id") on update cascade;`);
    this.addSql(`alter table "webhook_delivery" rename constraint "webhook_delivery_brand_id_foreign" to "coupon_delivery_brand_id_foreign";`);
    this.addSql(`alter table "webhook_delivery" rename constraint "webhook_delivery_pkey" to "coupon_delivery_pkey";`);
    this.addSql(`alter table "webhook_delivery" rename to "coupon_delivery";`);
    // PostgreSQL cannot drop a value from an enum type: 'PASSWORD_RESET' stays in "email_kind".
  }

}
