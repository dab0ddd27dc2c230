import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One key check (the "transaction log",
 * docs/api-conventions.md#usage-logs-and-alerts). The table is partitioned by
 * environment and day (see the usage migrations), plus a DEFAULT partition per
 * environment for days not created yet; rows are written in bulk by the usage worker
 * and leave with their whole day's partition at retention, or earlier, row by row,
 * for an organisation with a shorter window of its own. The id is a `req_` ULID of
 * the check's time, so ordering by id is ordering by time.
 */
@Entity({ tableName: 'request_logs' })
export class RequestLog {
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string', nullable: true })
  keyId: string | null = null;

  @Property({ type: 'string' })
  orgId!: string;

  @Property({ type: 'string' })
  environment!: string;

  @Property({ type: 'string' })
  code!: string;

  @Property({ type: 'string', nullable: true })
  ip: string | null = null;

  @Property({ type: 'string', nullable: true })
  method: string | null = null;

  @Property({ type: 'string', nullable: true })
  path: string | null = null;

  @Property({ type: 'bigint' })
  latencyUs!: number;

  @Property({ type: 'datetime' })
  at!: Date;
}
