import { Migration } from '@mikro-orm/migrations';

export class Migration20261121205635 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "email_kind" as enum ('ORDER_CONFIRMATION', 'TICKETS', 'ORDER_READY');`);
    this.addSql(`create type "email_status" as enum ('QUEUED', 'SENT', 'FAILED');`);
    this.addSql(`create table "rate_limit_hits" ("key" varchar(400) not null, "hits" jsonb not null, "updated_at" timestamptz not null default now(), constraint "rate_limit_hits_pkey" primary key ("key"));`);

    this.addSql(`create table "email" ("id" uuid not null, "created_at" timestamptz not null default now(), "order_id" uuid null, "kind" "email_kind" not null, "recipient" varchar(320) not null, "status" "email_status" not null default 'QUEUED', "attempts" int not null default 0, "message_id" varchar(100) null, "last_error" varchar(1000) null, "sent_at" timestamptz null, "data" jsonb not null default '{}', "updated_at" timestamptz not null default now(), constraint "email_pkey" primary key ("id"));`);
    this.addSql(`create index "email_order_id_created_at_index" on "email" ("order_id", "created_at");`);

    this.addSql(`create table "mail_outbox" ("id" uuid not null, "created_at" timestamptz not null default now(), "email_id" uuid not null, "from" varchar(400) not null, "to" varchar(320) not null, "subject" varchar(500) not null, "text_body" text not null, "html_body" text not null, "attachments" jsonb not null default '[]', constraint "mail_outbox_pkey" primary key ("id"));`);
    this.addSql(`create index "mail_outbox_email_id_index" on "mail_outbox" ("email_id");`);

    this.addSql(`alter table "email" add constraint "email_order_id_foreign" foreign key ("order_id") references "orders" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "mail_outbox" add constraint "mail_outbox_email_id_foreign" foreign key ("email_id") references "email" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "mail_outbox" drop constraint "mail_outbox_email_id_foreign";`);

    this.addSql(`drop table if exists "rate_limit_hits" cascade;`);

    this.addSql(`drop table if exists "email" cascade;`);

    this.addSql(`drop table if exists "mail_outbox" cascade;`);

    this.addSql(`drop type "email_kind";`);
    this.addSql(`drop type "email_status";`);
  }

}
