import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent, IncomingHttpHeaders, request } from 'node:http';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';

import autocannon from 'autocannon';

/** A bench server in its own process (so the load generator does not share its event loop). */
export class BenchServer {
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Forks `bench/servers/<script>` through the same TypeScript runner as this process. */
  static async start(name: string, script: string, env: Record<string, string> = {}, startWithinMs = 60_000): Promise<BenchServer> {
    const child = fork(join(__dirname, 'servers', script), [], {
      env: { ...process.env, ...env },
      execArgv: ['-r', '@swc-node/register', ...profileArgs(name)],
      // Logs go nowhere (the server still formats them): the bench prints its own lines.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${startWithinMs} ms`)), startWithinMs);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message?.type === 'listening' && message.port) {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before listening (${code ?? signal})`));
      });
    }).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    return new BenchServer(name, port, child);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The child's process id (its CPU time is read from /proc). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Sends `{ type }` over IPC and resolves with the child's first answer of the same type. */
  ask<T>(type: string, withinMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.name} did not answer ${type} within ${withinMs} ms`));
      }, withinMs);
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message as T);
      };
      this.child.on('message', onMessage);
      this.child.send({ type });
    });
  }

  /** Asks for a graceful close, then SIGKILLs after `withinMs`. */
  async stop(withinMs = 15_000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
    await exited;
    clearTimeout(timer);
  }
}

/** BENCH_CPU_PROF=DIR: each server writes a V8 CPU profile there when it stops (for `node --cpu-prof`). */
function profileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
}

/** Every child started here dies with this process, whatever happened. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  /** Non-2xx answers, socket errors and timeouts: a run with any is not a valid measurement. */
  failures: number;
  /** Requests sent, the ones still in flight when the run ended included (the server answers and meters them too). */
  sent?: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  durationSeconds: number;
  connections: number;
}

/** One autocannon run as fast as the server answers (latencies are recorded with 1 ms resolution). */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    duration: options.durationSeconds,
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
  });
  return {
    requestsPerSecond: result.requests.total / options.durationSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    sent: result.requests.sent,
  };
}

/**
 * Open-loop load at a steady `rate`: requests are due at even intervals whether or
 * not earlier ones have been answered, and each latency counts from when its request
 * was due (so a stall is charged to every request it delayed). autocannon's rate
 * option is no substitute: each connection sends its quota for the second as fast as
 * it can and then waits, so "half the peak rate" is the peak rate half of the time.
 * Node's HTTP client costs too much CPU to pace thousands of requests a second on
 * the box it measures, so this writes one pre-encoded GET per keep-alive socket and
 * reads just enough of the answer (status, Content-Length) to know when it ended.
 *
 * The first `warmUpSeconds` run on the same schedule but are not counted: fresh
 * connections and the server's first requests on them are not the steady state.
 */
export async function paced(options: {
  url: string;
  headers?: Record<string, string>;
  rate: number;
  durationSeconds: number;
  connections: number;
  warmUpSeconds?: number;
}): Promise<LoadResult> {
  const target = new URL(options.url);
  const headerLines = Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`);
  const encoded = Buffer.from(`GET ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n${headerLines.join('')}\r\n`);
  const intervalMs = 1000 / options.rate;
  const unmeasured = Math.floor(options.rate * (options.warmUpSeconds ?? 1));
  const total = unmeasured + Math.floor(options.rate * options.durationSeconds);
  const latenciesMs: number[] = [];
  let failures = 0;
  let answered = 0;
  const due: number[] = [];
  const idle: PacedConnection[] = [];
  let finished: () => void = () => undefined;
  const allAnswered = new Promise<void>((resolve) => (finished = resolve));
  let started = 0;
  const dueAt = (index: number) => started + index * intervalMs;

  const dispatch = () => {
    while (due.length > 0 && idle.length > 0) idle.pop()!.send(due.shift()!);
  };
  const onAnswer = (connection: PacedConnection, index: number, status: number) => {
    if (index >= unmeasured) {
      if (status >= 200 && status < 300) latenciesMs.push(performance.now() - dueAt(index));
      else failures += 1;
    }
    answered += 1;
    if (answered === total) finished();
    idle.push(connection);
    dispatch();
  };
  const connections = await Promise.all(Array.from({ length: options.connections }, () => PacedConnection.open(target, encoded, onAnswer)));
  idle.push(...connections);

  started = performance.now();
  let scheduled = 0;
  while (scheduled < total) {
    const now = performance.now();
    while (scheduled < total && dueAt(scheduled) <= now) due.push(scheduled++);
    dispatch();
    // Sleeps until the next request is due, to a fraction of a millisecond: a timer's
    // 1 ms granularity would add its own wait to half the latencies (p50 1.5 ms against
    // 0.3 ms), and spinning would take a whole core from the server on a 2-core box.
    // Atomics.wait blocks this thread without spinning; setImmediate then lets the
    // answers that came meanwhile in.
    const untilNext = dueAt(scheduled) - performance.now();
    if (untilNext > 0.02) Atomics.wait(SLEEPER, 0, 0, Math.min(untilNext, MAX_SLEEP_MS));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await allAnswered;
  const measuredSeconds = (performance.now() - dueAt(unmeasured)) / 1000;
  connections.forEach((connection) => connection.close());
  return {
    requestsPerSecond: latenciesMs.length / measuredSeconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    total: total - unmeasured,
    failures,
  };
}

/** Only ever waited on, never notified: Atomics.wait as a sub-millisecond sleep. */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
/** Longest single sleep, so answers are read at least this often while requests are sparse. */
const MAX_SLEEP_MS = 0.5;

/** One keep-alive socket of `paced`, one request at a time. */
class PacedConnection {
  private index = 0;
  private buffered: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly socket: Socket,
    private readonly encoded: Buffer,
    private readonly onAnswer: (connection: PacedConnection, index: number, status: number) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  static open(target: URL, encoded: Buffer, onAnswer: (connection: PacedConnection, index: number, status: number) => void) {
    return new Promise<PacedConnection>((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () => resolve(new PacedConnection(socket, encoded, onAnswer)));
      socket.once('error', reject);
    });
  }

  /** Sends the schedule's request number `index`. */
  send(index: number): void {
    this.index = index;
    this.socket.write(this.encoded);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Answers are small and one at a time: wait for the head, then for Content-Length bytes of body. */
  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = this.buffered.subarray(0, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffered.length < headEnd + 4 + length) return;
    this.buffered = Buffer.alloc(0);
    this.onAnswer(this, this.index, Number(head.slice(9, 12)));
  }
}

/** Sends as fast as `concurrency` requests in flight allow, for `durationSeconds`. */
export async function closedLoop(
  send: () => Promise<unknown>,
  durationSeconds: number,
  concurrency: number,
): Promise<LoadResult & { latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const started = Date.now();
  const deadline = started + durationSeconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const at = process.hrtime.bigint();
      try {
        await send();
        latenciesMs.push(Number(process.hrtime.bigint() - at) / 1e6);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSeconds = (Date.now() - started) / 1000;
  return {
    requestsPerSecond: latenciesMs.length / elapsedSeconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    total: latenciesMs.length,
    failures,
    latenciesMs,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain keep-alive HTTP call (less client overhead than fetch, for latency probes). */
export function httpCall(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers, agent: keepAlive, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A JSON API call that must succeed; answers the envelope's `data`. */
export async function api<T = unknown>(url: string, options: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const answer = await httpCall(url, { method: options.method ?? 'POST', headers, body: options.body ?? {} });
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${options.method ?? 'POST'} ${url}: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: T }).data;
}

export function closeHttpAgent(): void {
  keepAlive.destroy();
}

/** One measured run as a log line. */
export function formatRow(result: LoadResult): string {
  return `${Math.round(result.requestsPerSecond)} req/s, p50 ${ms(result.p50Ms)}, p99 ${ms(result.p99Ms)}, ${result.failures} failed of ${result.total}`;
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`;
}

export function log(message: string): void {
  console.log(`[bench] ${message}`);
}

/** A tuning knob from the environment, e.g. BENCH_DURATION_SECONDS. */
export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

/** What a bench's Latchkey processes need of the test environment it created. */
interface BenchEnvironment {
  databaseUrl: string;
  redisPrefix: string;
  config(): { REDIS_URL: string };
}

/**
 * The configuration every bench starts its Latchkey processes with: the environment's own
 * database and Redis prefix, and signups unthrottled (a bench signs up from one address).
 */
export function latchkeyBenchConfig(env: BenchEnvironment, defaultLogLevel: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? defaultLogLevel,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.config().REDIS_URL,
    REDIS_PREFIX: env.redisPrefix,
    SIGNUP_MAX_PER_ADDRESS: '10000',
  };
}
