import { Migration } from '@mikro-orm/migrations';

/** Session versions: logOutEverywhere ends every token issued before it (src/services/auth/accounts.ts, src/pubsub/sessions.ts). */
export class Migration20261122022806 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "session_version" int not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "session_version";`);
  }

}
