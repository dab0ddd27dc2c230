/**
 * npm run bench:webhooks — webhook delivery throughput and latency
 * (docs/performance.md#targets).
 *
 * One Latchkey process (TARGET=all) in this process, on a private database copied
 * from the migrated template and a private Redis prefix, with
 * WEBHOOK_ALLOW_PRIVATE_TARGETS so it may post to a receiver on 127.0.0.1. Events
 * are committed as outbox rows (what a key change commits), then relayed, fanned out
 * and delivered by the real workers. For each scenario it prints deliveries/s and
 * events/s for a burst, and p50/p99 from commit (outbox created_at) to the first
 * attempt reaching the receiver, for a burst and at a steady rate:
 *   - 1 endpoint;
 *   - 100 endpoints;
 *   - 100 endpoints of which one hangs (never answers): the 99 others are measured,
 *     and must not slow down.
 * Everything is bounded in time (BENCH_DEADLINE_S, default 240 s) and cleaned up.
 * Knobs: BENCH_EVENTS_1 (burst, 1 endpoint, default 500), BENCH_EVENTS_100 (burst,
 * 100 endpoints, default 20 events = 2000 deliveries), BENCH_RATE_1 / BENCH_RATE_100
 * (steady events/s, default 20 and 0.5 = 50 deliveries/s), BENCH_STEADY_S (default 4),
 * BENCH_VERBOSE=1 for progress lines.
 */
import 'reflect-metadata';

import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { EntityManager } from '@mikro-orm/postgresql';

import { TestApp } from '../test/support/create-test-app';
import { signUp } from '../test/support/factories';
import { TestEnvironment } from '../test/support/test-environment';
import { addHookEndpoint, commitOutboxEvents } from '../test/support/webhook-fixtures';

const DEADLINE_S = Number(process.env.BENCH_DEADLINE_S ?? 240);
const EVENTS_1 = Number(process.env.BENCH_EVENTS_1 ?? 500);
const EVENTS_100 = Number(process.env.BENCH_EVENTS_100 ?? 20);
/** Steady rates, in events/s: well under the burst throughput, so the latency measured is not queueing. */
const RATE_1 = Number(process.env.BENCH_RATE_1 ?? 20);
const RATE_100 = Number(process.env.BENCH_RATE_100 ?? 0.5);
const STEADY_S = Number(process.env.BENCH_STEADY_S ?? 4);
const COMMIT_BATCH = 100;

/** Records the first arrival of each (endpoint path, webhook-id); answers 200 at once, or never on a hanging path. */
class Receiver {
  readonly first = new Map<string, number>();
  requests = 0;
  readonly hanging = new Set<string>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => {
      request.resume();
      request.on('end', () => {
        const at = Date.now();
        const key = `${request.url} ${String(request.headers['webhook-id'])}`;
        receiver.requests += 1;
        if (!receiver.first.has(key)) receiver.first.set(key, at);
        if (!receiver.hanging.has(request.url ?? '')) response.writeHead(200).end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

interface Scenario {
  name: string;
  paths: string[];
  hangingPath?: string;
}

interface Measured {
  deliveries: number;
  seconds: number;
  latencies: number[];
}

let sut: TestApp | undefined;
let receiver: Receiver | undefined;
let aborted = false;

async function main(): Promise<void> {
  const env = await TestEnvironment.create();
  const started = Date.now();
  const timer = setTimeout(() => {
    console.error(`bench:webhooks: over its ${DEADLINE_S} s deadline, stopping`);
    aborted = true;
    void cleanup(env).finally(() => process.exit(2));
  }, DEADLINE_S * 1000);
  try {
    sut = await TestApp.start({ env, config: { TARGET: 'all', LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    receiver = await Receiver.start();
    console.log(
      `bench:webhooks — ${new Date().toISOString()}, node ${process.version}, 127.0.0.1 receiver, one Latchkey process (TARGET=all)`,
    );

    const one: Scenario = { name: '1 endpoint', paths: ['/one'] };
    const hundred: Scenario = { name: '100 endpoints', paths: Array.from({ length: 100 }, (_, index) => `/many/${index}`) };
    const hanging: Scenario = {
      name: '100 endpoints, 1 hanging (99 measured)',
      paths: Array.from({ length: 100 }, (_, index) => `/hang/${index}`),
      hangingPath: '/hang/0',
    };

    const rows: string[][] = [];
    for (const [scenario, burst, rate] of [
      [one, EVENTS_1, RATE_1],
      [hundred, EVENTS_100, RATE_100],
      [hanging, EVENTS_100, RATE_100],
    ] as const) {
      const orgId = await setUp(scenario);
      const burstResult = await measure(scenario, orgId, burst, 0);
      const steadyResult = await measure(scenario, orgId, Math.max(1, Math.round(rate * STEADY_S)), rate);
      const measuredEndpoints = scenario.paths.length - (scenario.hangingPath ? 1 : 0);
      rows.push([
        scenario.name,
        `${burst} ev → ${burstResult.deliveries}`,
        (burstResult.deliveries / burstResult.seconds).toFixed(0),
        (burstResult.deliveries / measuredEndpoints / burstResult.seconds).toFixed(0),
        ms(percentile(burstResult.latencies, 50)),
        ms(percentile(burstResult.latencies, 99)),
        `${rate} ev/s`,
        ms(percentile(steadyResult.latencies, 50)),
        ms(percentile(steadyResult.latencies, 99)),
      ]);
    }
    printTable(
      ['scenario', 'burst', 'deliveries/s', 'events/s', 'burst p50', 'burst p99', 'steady rate', 'steady p50', 'steady p99'],
      rows,
    );
    console.log('latency: outbox created_at (commit) → first attempt arriving at the receiver; deliveries/s counts first arrivals.');
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    clearTimeout(timer);
    await cleanup(env);
  }
}

async function setUp(scenario: Scenario): Promise<string> {
  const app = sut!;
  const { orgId } = await signUp(app);
  for (const path of scenario.paths) await addHookEndpoint(app.app, app.config.ENCRYPTION_KEY, orgId, receiver!.url(path));
  if (scenario.hangingPath) receiver!.hanging.add(scenario.hangingPath);
  return orgId;
}

/** Commits `events` (all at once when rate is 0, else at `rate` per second) and waits for every measured delivery. */
async function measure(scenario: Scenario, orgId: string, events: number, rate: number): Promise<Measured> {
  const app = sut!;
  const ids: string[] = [];
  const start = Date.now();
  if (rate === 0) {
    while (ids.length < events) ids.push(...(await commitOutboxEvents(app.app, orgId, Math.min(COMMIT_BATCH, events - ids.length))));
  } else {
    const tick = 50;
    const perTick = rate / (1000 / tick);
    let owed = 0;
    while (ids.length < events) {
      owed += perTick;
      const now = Math.floor(owed);
      owed -= now;
      if (now > 0) ids.push(...(await commitOutboxEvents(app.app, orgId, Math.min(now, events - ids.length))));
      await sleep(tick);
    }
  }
  const measured = scenario.paths.filter((path) => path !== scenario.hangingPath);
  const keys = measured.flatMap((path) => ids.map((id) => `${path} ${id}`));
  const waitUntil = Date.now() + 120_000;
  let arrived = 0;
  let reported = Date.now();
  while (Date.now() < waitUntil) {
    if (aborted || !receiver) throw new Error('aborted');
    arrived = keys.reduce((count, key) => count + (receiver!.first.has(key) ? 1 : 0), 0);
    if (arrived === keys.length) break;
    if (process.env.BENCH_VERBOSE && Date.now() - reported > 2_000) {
      reported = Date.now();
      console.log(`  ${scenario.name}: ${arrived}/${keys.length} after ${((Date.now() - start) / 1000).toFixed(1)} s`);
    }
    await sleep(20);
  }
  if (arrived < keys.length) throw new Error(`${scenario.name}: only ${arrived} of ${keys.length} deliveries arrived within 120 s`);
  const lastArrival = Math.max(...keys.map((key) => receiver!.first.get(key)!));

  const rows: { id: string; created_at: Date }[] = await app.app
    .get(EntityManager)
    .fork()
    .execute(`select id, created_at from outbox_events where id in (${ids.map(() => '?').join(',')})`, ids);
  const committed = new Map(rows.map((row) => [row.id, new Date(row.created_at).getTime()]));
  const latencies = measured.flatMap((path) => ids.map((id) => receiver!.first.get(`${path} ${id}`)! - committed.get(id)!));
  return { deliveries: keys.length, seconds: (lastArrival - start) / 1000, latencies };
}

async function cleanup(env: TestEnvironment): Promise<void> {
  await receiver?.close().catch(() => undefined);
  receiver = undefined;
  await sut?.close().catch((error: unknown) => console.error('closing the app:', error));
  sut = undefined;
  await env.destroy().catch((error: unknown) => console.error('dropping the bench database:', error));
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (aborted) return; // the deadline handler cleans up and exits
    console.error(error);
    process.exit(1);
  },
);
