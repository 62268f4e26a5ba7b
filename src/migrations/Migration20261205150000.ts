import { Migration } from '@mikro-orm/migrations';

/** Quotas (issue #10): a brand's capacities, the products each limits, and the seats each order took in each quota (held, sold or released). */
export class Migration20261205150000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "quota_hold_state" as enum ('HELD', 'SOLD', 'RELEASED');`);
    this.addSql(`create table "quota" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "brand_id" uuid not null, "name" varchar(200) not null, "size" int not null, "sold" int not null default 0, "held" int not null default 0, "updated_at" timestamptz not null default now(), constraint "quota_pkey" primary key ("id"), constraint quota_counts_check check (sold >= 0 and held >= 0 and sold + held <= size));`);
    this.addSql(`create index "quota_brand_id_created_at_id_index" on "quota" ("brand_id", "created_at", "id");`);

    this.addSql(`create table "quota_product" ("quota_id" uuid not null, "product_id" uuid not null, constraint "quota_product_pkey" primary key ("quota_id", "product_id"));`);
    this.addSql(`create index "quota_product_product_id_index" on "quota_product" ("product_id");`);

    this.addSql(`create table "order_quota_hold" ("order_id" uuid not null, "quota_id" uuid not null, "seats" int not null, "state" "quota_hold_state" not null, constraint "order_quota_hold_pkey" primary key ("order_id", "quota_id"), constraint order_quota_hold_seats_check check (seats > 0));`);
    this.addSql(`create index "order_quota_hold_quota_id_index" on "order_quota_hold" ("quota_id");`);

    this.addSql(`alter table "quota" add constraint "quota_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);

    this.addSql(`alter table "quota_product" add constraint "quota_product_quota_id_foreign" foreign key ("quota_id") references "quota" ("id") on update cascade;`);
    this.addSql(`alter table "quota_product" add constraint "quota_product_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade;`);

    this.addSql(`alter table "order_quota_hold" add constraint "order_quota_hold_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);
    this.addSql(`alter table "order_quota_hold" add constraint "order_quota_hold_quota_id_foreign" foreign key ("quota_id") references "quota" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "quota_product" drop constraint "quota_product_quota_id_foreign";`);

    this.addSql(`alter table "order_quota_hold" drop constraint "order_quota_hold_quota_id_foreign";`);

    this.addSql(`drop table if exists "quota" cascade;`);

    this.addSql(`drop table if exists "quota_product" cascade;`);

    this.addSql(`drop table if exists "order_quota_hold" cascade;`);

    this.addSql(`drop type "quota_hold_state";`);
  }

}
