import { Migration } from '@mikro-orm/migrations';

/** Brand invitations (inviteBrandMember / acceptBrandInvitation) and their email kind (issue #12 item 8). */
export class Migration20261205130000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "brand_invitation" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "brand_id" uuid not null, "email" varchar(320) not null, "role" "brand_role" not null, "token_hash" varchar(64) not null, "invited_by_id" uuid not null, "expires_at" timestamptz not null, "accepted_at" timestamptz null, constraint "brand_invitation_pkey" primary key ("id"));`);
    this.addSql(`alter table "brand_invitation" add constraint "brand_invitation_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "brand_invitation_invited_by_id_index" on "brand_invitation" ("invited_by_id");`);
    this.addSql(`create index "brand_invitation_brand_id_email_index" on "brand_invitation" ("brand_id", "email");`);

    this.addSql(`alter table "brand_invitation" add constraint "brand_invitation_brand_id_foreign" foreign key ("brand_id") references "brand" ("id") on update cascade;`);
    this.addSql(`alter table "brand_invitation" add constraint "brand_invitation_invited_by_id_foreign" foreign key ("invited_by_id") references "users" ("id") on update cascade;`);

    this.addSql(`alter type "email_kind" add value if not exists 'BRAND_INVITATION' after 'COUPON';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "brand_invitation" cascade;`);
    // PostgreSQL cannot drop a value from an enum type: 'BRAND_INVITATION' stays in "email_kind".
  }

}
