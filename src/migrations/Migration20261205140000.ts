import { Migration } from '@mikro-orm/migrations';

/** CANCELLED deliveries: removing a brand's couponWebhookUrl stops its pending coupon deliveries (src/webhooks/coupon-delivery.ts). */
export class Migration20261205140000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter type "delivery_status" add value if not exists 'CANCELLED';`);
  }

  override async down(): Promise<void> {
    // PostgreSQL cannot drop an enum value: the type is rebuilt without it (cancelled rows become FAILED).
    this.addSql(`alter table "coupon_delivery" alter column "status" drop default;`);
    this.addSql(`alter type "delivery_status" rename to "delivery_status_old";`);
    this.addSql(`create type "delivery_status" as enum ('PENDING', 'DELIVERED', 'FAILED');`);
    this.addSql(`alter table "coupon_delivery" alter column "status" type "delivery_status" using (case when "status"::text = 'CANCELLED' then 'FAILED' else "status"::text end)::"delivery_status";`);
    this.addSql(`alter table "coupon_delivery" alter column "status" set default 'PENDING';`);
    this.addSql(`drop type "delivery_status_old";`);
  }

}
