import { Migration } from '@mikro-orm/migrations';

/**
 * Stored tickets (issue #12): one row per admitted person of a paid order, with the code its QR
 * encodes and when it was checked in. Orders paid before this migration get theirs at the next
 * start (backfillTickets in services/checkin/issue.ts): the codes are HMACs under AUTH_SECRET,
 * which the database does not know.
 */
export class Migration20261205200000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "ticket" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "brand_id" uuid not null, "order_id" uuid not null, "product_id" uuid not null, "index" int not null, "holder_name" varchar(200) not null, "holder_email" varchar(320) not null, "code" varchar(100) not null, "checked_in_at" timestamptz null, constraint "ticket_pkey" primary key ("id"));`);
    this.addSql(`create index "ticket_brand_id_checked_in_at_index" on "ticket" ("brand_id", "checked_in_at");`);
    this.addSql(`alter table "ticket" add constraint "ticket_order_id_index_unique" unique ("order_id", "index");`);
    this.addSql(`alter table "ticket" add constraint "ticket_code_unique" unique ("code");`);

    this.addSql(`alter table "ticket" add constraint "ticket_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "ticket" add constraint "ticket_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade;`);
    this.addSql(`alter table "ticket" add constraint "ticket_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "ticket" cascade;`);
  }

}
