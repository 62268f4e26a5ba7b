import { Migration } from '@mikro-orm/migrations';

/** Job worker heartbeats: the jobs of a worker that stops beating are released (src/jobs/heartbeat.ts). */
export class Migration20261121232000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "worker_heartbeat" ("pool_id" varchar(64) not null, "hostname" varchar(255) not null, "pid" int not null, "started_at" timestamptz not null default now(), "seen_at" timestamptz not null default now(), constraint "worker_heartbeat_pkey" primary key ("pool_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "worker_heartbeat" cascade;`);
  }

}
