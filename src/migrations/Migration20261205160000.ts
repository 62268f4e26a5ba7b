import { Migration } from '@mikro-orm/migrations';

/**
 * The on-sale fix (issue #10): a quota's counters follow its hold records at COMMIT, inside
 * PostgreSQL. A deferred constraint trigger on order_quota_hold applies each hold's change to
 * quota.held / quota.sold when the transaction commits, so the hot quota row is locked for the
 * commit only, never across a round trip to a busy API process. Events fire in the order they
 * were queued; capacity/seats.ts queues them by ascending quota id, so every transaction locks its
 * quotas in that order (no deadlock). Taking room (a new HELD or SOLD hold, or RELEASED → HELD/SOLD)
 * is conditional: with no room the commit fails with SQLSTATE OL001 (detail: the quota id), which
 * createOrder answers as SOLD_OUT. quota_counts_check stays as the last line of defence.
 */
export class Migration20261205160000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create function "order_quota_hold_counts"() returns trigger language plpgsql as $$
declare
  was text := case when tg_op = 'UPDATE' then old.state::text end;
  now_state text := new.state::text;
begin
  if was is not distinct from now_state then
    return null;
  end if;
  if (was is null or was = 'RELEASED') and now_state <> 'RELEASED' then
    update quota set held = held + case now_state when 'HELD' then new.seats else 0 end,
                     sold = sold + case now_state when 'SOLD' then new.seats else 0 end,
                     updated_at = now()
     where id = new.quota_id and size - sold - held >= new.seats;
    if not found then
      raise exception using errcode = 'OL001', message = 'orderline sold out', detail = new.quota_id::text;
    end if;
  elsif was is not null and was <> 'RELEASED' then
    update quota set held = held - case was when 'HELD' then new.seats else 0 end + case now_state when 'HELD' then new.seats else 0 end,
                     sold = sold - case was when 'SOLD' then new.seats else 0 end + case now_state when 'SOLD' then new.seats else 0 end,
                     updated_at = now()
     where id = new.quota_id;
  end if;
  return null;
end $$;`);
    this.addSql(`create constraint trigger "order_quota_hold_counts" after insert or update of "state" on "order_quota_hold" deferrable initially deferred for each row execute function "order_quota_hold_counts"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "order_quota_hold_counts" on "order_quota_hold";`);
    this.addSql(`drop function if exists "order_quota_hold_counts"();`);
  }

}
