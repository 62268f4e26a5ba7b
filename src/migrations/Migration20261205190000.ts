import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency keys (issue #11): one row per (caller, mutation, key), claimed in the mutation's own
 * transaction (the primary key makes a racing second claim wait for the first to end), kept 24 h.
 * created_at is indexed for the hourly prune.
 */
export class Migration20261205190000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "idempotency_key" ("caller" varchar(100) not null, "operation" varchar(60) not null, "key" varchar(255) not null, "args_hash" varchar(64) not null, "result_id" uuid not null, "created_at" timestamptz not null default now(), constraint "idempotency_key_pkey" primary key ("caller", "operation", "key"));`);
    this.addSql(`create index "idempotency_key_created_at_index" on "idempotency_key" ("created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_key" cascade;`);
  }

}
