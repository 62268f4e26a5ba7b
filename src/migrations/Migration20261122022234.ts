import { Migration } from '@mikro-orm/migrations';

/**
 * Creation times in milliseconds (timestamptz(3)), the precision of a JS Date and of the keyset
 * cursors built from it: a row inserted by SQL with now() (a bulk import, the bench seed) kept
 * microseconds, and a page ending on such a row skipped the rows created before it in the same
 * millisecond. Existing values are rounded to the millisecond; rows written by the API already were.
 */
export class Migration20261122022234 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "brand" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "discount" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "coupon" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "fan" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "coupon_delivery" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "delivery_attempt" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "product" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "users" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "orders" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "payment_attempt" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "order_event" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "email" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "mail_outbox" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "brand_member" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);

    this.addSql(`alter table "api_key" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_key" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "brand" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "brand_member" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "coupon" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "coupon_delivery" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "delivery_attempt" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "discount" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "email" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "fan" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "mail_outbox" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "order_event" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "orders" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "payment_attempt" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "product" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`alter table "users" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);
  }

}
