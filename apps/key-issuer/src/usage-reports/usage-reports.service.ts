import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { decodeTime } from 'ulid';

import { OrgPrincipal } from '@latchkey/access';
import { AppConfig } from '@latchkey/config';
import { OrganizationReply, OrgsPattern, Page, PageRequest } from '@latchkey/contracts';
import { ApiKey, requestLogRetentionDays, USAGE_BUCKET_MS, USAGE_COUNTER_RETENTION_DAYS, UsageGranularity } from '@latchkey/db';
import { IdPrefix, isIdOf } from '@latchkey/ids';
import { AppError, RpcClient } from '@latchkey/platform';

import { KeyUsageQueryDto } from './dto/key-usage-query.dto';
import { ListRequestLogsQueryDto } from './dto/list-request-logs-query.dto';
import { OrgUsageQueryDto, UsageGroupBy } from './dto/org-usage-query.dto';
import { RequestLogResponseDto } from './dto/request-log-response.dto';
import { KeyUsageResponseDto, OrgUsageResponseDto, UsageBucketDto, UsageGroupDto } from './dto/usage-response.dto';

/** More buckets than a chart can show is a mistake (or a way to make the server build a huge answer). */
export const MAX_USAGE_BUCKETS = 1500;
const DEFAULT_BUCKETS: Record<UsageGranularity, number> = { minute: 60, hour: 24, day: 30 };
const DEFAULT_ORG_RANGE_DAYS = 30;

/** The counter column each group_by reads (a fixed map: never interpolate user input). */
const GROUP_COLUMNS: Record<UsageGroupBy, string> = {
  key: 'key_id',
  owner: 'owner_id',
  code: 'code',
  environment: 'environment',
};

interface CounterRow {
  bucket_start: Date | string;
  code: string;
  count: string | number;
}

interface GroupRow {
  value: string | null;
  code: string;
  n: string | number;
}

interface LogRow {
  id: string;
  key_id: string | null;
  org_id: string;
  environment: RequestLogResponseDto['environment'];
  code: string;
  ip: string | null;
  method: string | null;
  path: string | null;
  latency_us: string | number;
  at: Date | string;
}

/**
 * Usage statistics and request logs of the session's organisation
 * (docs/api-conventions.md#usage-logs-and-alerts), read from what the usage worker
 * wrote. Every query is scoped to the organisation; a key of another organisation is
 * not found.
 */
@Injectable()
export class UsageReportsService {
  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly rpc: RpcClient,
  ) {}

  async keyUsage(principal: OrgPrincipal, keyId: string, query: KeyUsageQueryDto, now = new Date()): Promise<KeyUsageResponseDto> {
    const key = isIdOf(IdPrefix.ApiKey, keyId)
      ? await this.em.findOne(ApiKey, { id: keyId, organization: principal.orgId }, { fields: ['id'] })
      : null;
    if (!key) throw AppError.notFound('API key');
    const granularity = query.granularity ?? UsageGranularity.Hour;
    const size = USAGE_BUCKET_MS[granularity];
    const to = ceilTo(query.to ? new Date(query.to) : now, size);
    const from = query.from ? floorTo(new Date(query.from), size) : to - DEFAULT_BUCKETS[granularity] * size;
    if (from >= to) throw AppError.validation('from must be before to.');
    assertCountersKept(granularity, from, now, 'use a coarser granularity');
    const bucketCount = (to - from) / size;
    if (bucketCount > MAX_USAGE_BUCKETS) {
      throw AppError.validation(
        `That range holds ${bucketCount} ${granularity} buckets; at most ${MAX_USAGE_BUCKETS}: narrow it or use a coarser granularity.`,
      );
    }
    const rows = await this.em.execute<CounterRow[]>(
      `select bucket_start, code, count from usage_counters
        where key_id = ? and org_id = ? and granularity = ? and bucket_start >= ? and bucket_start < ?`,
      [keyId, principal.orgId, granularity, new Date(from), new Date(to)],
    );
    const buckets: UsageBucketDto[] = Array.from({ length: bucketCount }, (_, index) => ({
      start: new Date(from + index * size).toISOString(),
      total: 0,
      codes: {},
    }));
    for (const row of rows) {
      const bucket = buckets[(new Date(row.bucket_start).getTime() - from) / size];
      const count = Number(row.count);
      bucket.total += count;
      bucket.codes[row.code] = (bucket.codes[row.code] ?? 0) + count;
    }
    return { key_id: keyId, granularity, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets };
  }

  async orgUsage(principal: OrgPrincipal, query: OrgUsageQueryDto, now = new Date()): Promise<OrgUsageResponseDto> {
    const minute = USAGE_BUCKET_MS.minute;
    const day = USAGE_BUCKET_MS.day;
    // Counters are no finer than a minute; the range is read from the coarsest counters it is aligned to.
    const to = query.to ? floorTo(new Date(query.to), minute) : ceilTo(now, day);
    const from = query.from ? floorTo(new Date(query.from), minute) : to - DEFAULT_ORG_RANGE_DAYS * day;
    if (from >= to) throw AppError.validation('from must be before to.');
    const granularity = coarsestAligned(from, to);
    assertCountersKept(granularity, from, now, `align from and to to whole ${granularity === UsageGranularity.Minute ? 'hours' : 'days'}`);
    const column = GROUP_COLUMNS[query.group_by];
    const params: unknown[] = [principal.orgId, granularity, new Date(from), new Date(to)];
    let environment = '';
    if (query.environment) {
      environment = ' and environment = ?';
      params.push(query.environment);
    }
    const rows = await this.em.execute<GroupRow[]>(
      `select ${column} as value, code, sum(count)::bigint as n from usage_counters
        where org_id = ? and granularity = ? and bucket_start >= ? and bucket_start < ?${environment}
        group by 1, 2`,
      params,
    );
    const groups = new Map<string | null, UsageGroupDto>();
    let total = 0;
    for (const row of rows) {
      const count = Number(row.n);
      let group = groups.get(row.value);
      if (!group) {
        group = { value: row.value, total: 0, codes: {} };
        groups.set(row.value, group);
      }
      group.total += count;
      group.codes[row.code] = (group.codes[row.code] ?? 0) + count;
      total += count;
    }
    const sorted = [...groups.values()].sort((a, b) => b.total - a.total || String(a.value).localeCompare(String(b.value)));
    return { group_by: query.group_by, from: new Date(from).toISOString(), to: new Date(to).toISOString(), total, groups: sorted };
  }

  async listLogs(
    principal: OrgPrincipal,
    query: ListRequestLogsQueryDto,
    page: PageRequest,
    now = new Date(),
  ): Promise<Page<RequestLogResponseDto>> {
    const conditions = ['org_id = ?'];
    const params: unknown[] = [principal.orgId];
    const where = (condition: string, ...values: unknown[]) => {
      conditions.push(condition);
      params.push(...values);
    };
    // Rows past the organisation's own retention window are never shown, even while they
    // wait for the worker to delete them (or for their day to be dropped).
    const windowStart = await this.logWindowStarts(principal.orgId, now);
    if (query.environment) where('at >= ?', windowStart[query.environment]);
    else where(`((environment = 'test' and at >= ?) or (environment = 'live' and at >= ?))`, windowStart.test, windowStart.live);
    if (query.key_id) where('key_id = ?', query.key_id);
    if (query.code) where('code = ?', query.code);
    if (query.environment) where('environment = ?', query.environment);
    if (query.from) where('at >= ?', new Date(query.from));
    if (query.to) where('at < ?', new Date(query.to));
    if (page.cursor) {
      if (!isIdOf(IdPrefix.Request, page.cursor)) throw AppError.validation('cursor is not one this API returned');
      where('id < ?', page.cursor);
      // The id is a ULID of the check's time: also bound `at`, so older days' partitions alone are read.
      where('at < ?', new Date(decodeTime(page.cursor.slice(IdPrefix.Request.length + 1)) + 1));
    }
    params.push(page.limit + 1);
    const rows = await this.em.execute<LogRow[]>(
      `select id, key_id, org_id, environment, code, ip, method, path, latency_us, at from request_logs
        where ${conditions.join(' and ')}
        order by id desc limit ?`,
      params,
    );
    const hasMore = rows.length > page.limit;
    const items = (hasMore ? rows.slice(0, page.limit) : rows).map(toLogResponse);
    return new Page(items, hasMore, hasMore ? items[items.length - 1].id : null);
  }

  /** Per environment, the oldest check the organisation's request-log retention still shows. */
  private async logWindowStarts(orgId: string, now: Date): Promise<Record<'test' | 'live', Date>> {
    // The organisation belongs to org-api: read over the Redis transport, as a split deployment must.
    const org = await this.rpc.send<OrganizationReply>(OrgsPattern.GetOrganization, { org_id: orgId });
    const start = (environment: 'test' | 'live', defaultDays: number) =>
      new Date(now.getTime() - requestLogRetentionDays(org.settings, environment, defaultDays) * USAGE_BUCKET_MS.day);
    return {
      test: start('test', this.config.get('REQUEST_LOG_RETENTION_TEST_DAYS')),
      live: start('live', this.config.get('REQUEST_LOG_RETENTION_LIVE_DAYS')),
    };
  }
}

/** Counters finer than a day are pruned past USAGE_COUNTER_RETENTION_DAYS: a range reaching further back cannot be answered. */
function assertCountersKept(granularity: UsageGranularity, from: number, now: Date, hint: string): void {
  const days = USAGE_COUNTER_RETENTION_DAYS[granularity];
  if (days === null || from >= now.getTime() - days * USAGE_BUCKET_MS.day) return;
  throw AppError.validation(`${granularity} counts are kept ${days} days; for a range starting earlier, ${hint}.`);
}

function toLogResponse(row: LogRow): RequestLogResponseDto {
  return {
    id: row.id,
    key_id: row.key_id,
    org_id: row.org_id,
    environment: row.environment,
    code: row.code,
    ip: row.ip,
    method: row.method,
    path: row.path,
    latency_us: Number(row.latency_us),
    at: new Date(row.at).toISOString(),
  };
}

function floorTo(at: Date, size: number): number {
  return Math.floor(at.getTime() / size) * size;
}

function ceilTo(at: Date, size: number): number {
  return Math.ceil(at.getTime() / size) * size;
}

function coarsestAligned(from: number, to: number): UsageGranularity {
  for (const granularity of [UsageGranularity.Day, UsageGranularity.Hour] as const) {
    const size = USAGE_BUCKET_MS[granularity];
    if (from % size === 0 && to % size === 0) return granularity;
  }
  return UsageGranularity.Minute;
}
