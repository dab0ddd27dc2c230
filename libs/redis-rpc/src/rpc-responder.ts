import { hostname } from 'node:os';

import { PerKeyPipeline } from './per-key-pipeline';
import { streamEntries, type RedisConnection } from './rpc-caller';
import {
  CLOCK_SKEW_MS,
  CONSUMER_GROUP,
  isReplyStreamKey,
  MAX_DEADLINE_MS,
  MAX_PAYLOAD_LENGTH,
  nonceKey,
  parseRequest,
  randomId,
  replyFields,
  requestSigner,
  requestStreamKey,
  RpcErrorBody,
  RpcOutcome,
  RpcRequest,
  serviceOf,
  signReply,
} from './wire';

export interface RpcResponderOptions {
  /** Opens a new connection; called once for commands and once per service stream (each kept blocked reading). */
  connect: () => RedisConnection;
  prefix: string;
  /** The patterns this process answers; it reads the streams of their services. */
  patterns: readonly string[];
  /** SERVICE_SECRET's values (one, or two while rotating): they open every pattern. */
  serviceSecrets: readonly string[];
  /** INTERNAL_TOKEN's values; none means `internalPatterns` take unsigned requests, as POST /v1/verify does then. */
  internalSecrets: readonly string[];
  /** The patterns INTERNAL_TOKEN opens (`auth.verify`); the rest need SERVICE_SECRET. */
  internalPatterns: ReadonlySet<string>;
  handle(pattern: string, payload: unknown): Promise<RpcOutcome>;
  /** Requests run at once by this process, at most; reading pauses above it. */
  maxInFlight?: number;
  onWarning?(message: string): void;
}

const READ_BLOCK_MS = 2_000;
const READ_BATCH = 128;
const READ_RETRY_MS = 250;
const WARN_INTERVAL_MS = 1_000;
/** Replies a caller has not read yet, kept at most (approximately), so a dead caller cannot fill Redis. */
const REPLY_STREAM_MAX = 1_000;
/** A reply stream nobody writes to for this long disappears: the caller is gone. */
const REPLY_STREAM_TTL_MS = 60_000;

/** Who signed a request, as far as the responder is concerned: the secret to sign the reply with, or the refusal. */
/**
 * What the responder makes of a request's signature: the secret to sign the reply with
 * (none for an unsigned caller), and the refusal when it may not run.
 */
interface Admission {
  authenticated: boolean;
  secret: string | undefined;
  refusal?: RpcErrorBody;
}

/**
 * Serves patterns to RedisRpcCaller: every instance of a service reads its stream
 * through one consumer group, so each request runs on exactly one of them. At most
 * once: an entry is taken without a pending-list entry (NOACK) and deleted at once,
 * its nonce claimed before it runs, and one past its deadline is dropped unrun, so
 * an instance that dies mid-request loses that request (its caller times out) rather
 * than another instance running it again.
 */
export class RedisRpcResponder {
  private readonly consumer = `${hostname()}:${process.pid}:${randomId().slice(0, 8)}`;
  private readonly commands: RedisConnection;
  /** Replies finished in one turn go to each caller's stream as one pipeline. */
  private readonly replies: PerKeyPipeline;
  private readonly readers: RedisConnection[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly maxInFlight: number;
  /** Requests read and not yet dropped or answered. */
  private inFlight = 0;
  private lastWarnAt = 0;
  private suppressedWarnings = 0;
  private readonly patterns: ReadonlySet<string>;
  private stopping = false;
  /** Read loops paused at maxInFlight, woken when a request finishes. */
  private roomWaiters: Array<() => void> = [];

  constructor(private readonly options: RpcResponderOptions) {
    this.maxInFlight = options.maxInFlight ?? 512;
    this.patterns = new Set(options.patterns);
    this.commands = options.connect();
    this.commands.on('error', () => undefined);
    this.replies = new PerKeyPipeline(this.commands, 'XADD', (key) => ['PEXPIRE', key, REPLY_STREAM_TTL_MS]);
  }

  /** Creates the consumer groups (idempotent) and starts reading. */
  async start(): Promise<void> {
    const services = [...new Set(this.options.patterns.map(serviceOf))];
    for (const service of services) await this.ensureGroup(requestStreamKey(this.options.prefix, service));
    for (const service of services) {
      const reader = this.options.connect();
      reader.on('error', () => undefined);
      this.readers.push(reader);
      this.loops.push(this.readLoop(reader, service));
    }
  }

  /** Stops taking requests, then waits (up to `deadlineMs`) for those running to reply. */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.stopping = true;
    this.wakeReaders();
    for (const reader of this.readers) reader.disconnect();
    await Promise.all(this.loops);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.running), new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  private wakeReaders(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private async ensureGroup(stream: string): Promise<void> {
    try {
      // From the start of the stream: requests sent before the first instance came up still run if in time.
      await this.commands.call('XGROUP', 'CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  private async readLoop(reader: RedisConnection, service: string): Promise<void> {
    const stream = requestStreamKey(this.options.prefix, service);
    while (!this.stopping) {
      const room = this.maxInFlight - this.inFlight;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        continue;
      }
      let result: unknown;
      try {
        result = await reader.call(
          'XREADGROUP',
          'GROUP',
          CONSUMER_GROUP,
          this.consumer,
          'COUNT',
          Math.min(READ_BATCH, room),
          'BLOCK',
          READ_BLOCK_MS,
          'NOACK',
          'STREAMS',
          stream,
          '>',
        );
      } catch (error) {
        if (this.stopping) return;
        // Redis restarted empty (or the stream was deleted): the group is gone with it.
        if (error instanceof Error && error.message.startsWith('NOGROUP')) await this.ensureGroup(stream).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        continue;
      }
      const entries = streamEntries(result);
      if (entries.length === 0) continue;
      // Each entry holds a slot until it is dropped or answered, so maxInFlight bounds what is held.
      this.inFlight += entries.length;
      // Admitted on the command connection while this one reads the next batch: a round trip less per batch.
      this.track(this.admit(service, stream, entries));
    }
  }

  /**
   * Deletes the entries read (a request holds an API key: it stays in Redis no longer
   * than it must) and claims the nonce of each signed one, in one round trip; then
   * starts those whose nonce was new. An unsigned refusal claims nothing: a forgery
   * carrying a genuine request's id must not be able to spend that id first.
   */
  private async admit(service: string, stream: string, entries: Array<[string, string[]]>): Promise<void> {
    const now = Date.now();
    const signed: Array<{ request: RpcRequest; admission: Admission }> = [];
    const pipeline = this.commands.pipeline();
    pipeline.xdel(stream, ...entries.map(([id]) => id));
    for (const [, fields] of entries) {
      const request = parseRequest(fields);
      const problem = typeof request === 'string' ? request : this.problemOf(request, service, now);
      if (problem !== undefined) {
        this.release();
        if (problem) this.warn(`an RPC request was dropped: ${problem}`);
        continue;
      }
      const accepted = request as RpcRequest;
      const admission = this.admission(accepted);
      if (!admission.authenticated) {
        this.track(this.run(accepted, admission));
        continue;
      }
      signed.push({ request: accepted, admission });
      // The nonce outlives the deadline by the clock margin, and no more (deadlines are capped).
      pipeline.set(nonceKey(this.options.prefix, service, accepted.id), '1', 'PX', accepted.deadline - now + CLOCK_SKEW_MS, 'NX');
    }
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await pipeline.exec();
    } catch {
      results = null;
    }
    for (const [index, { request, admission }] of signed.entries()) {
      const claim = results?.[index + 1];
      // Without the claim it may be a replay (or Redis is failing): not run, at most once.
      if (!claim || claim[0] || claim[1] !== 'OK') {
        this.release();
        if (claim && !claim[0]) this.warn(`a replayed RPC request for ${request.pattern} was dropped`);
        continue;
      }
      this.track(this.run(request, admission));
    }
  }

  /**
   * Why a well-formed entry is dropped unanswered: '' to drop it silently (its caller
   * has given up), a reason to log, or undefined when it may be admitted.
   */
  private problemOf(request: RpcRequest, service: string, now: number): string | undefined {
    // Running it now could only do what nobody waits for.
    if (request.deadline < now) return '';
    // A request belongs to its pattern's stream: a copy on another service's stream
    // (read by the same all-in-one process) would run again under a nonce of that stream.
    if (serviceOf(request.pattern) !== service) return `a request for ${request.pattern} arrived on the ${service} stream`;
    // Nothing can be claimed for long: a deadline past the cap would pin its nonce in Redis.
    if (request.deadline > now + MAX_DEADLINE_MS + CLOCK_SKEW_MS) {
      return `a request for ${request.pattern} has a deadline over ${MAX_DEADLINE_MS} ms away`;
    }
    if (!isReplyStreamKey(this.options.prefix, request.replyTo)) {
      return `a request for ${request.pattern} named a reply stream that is not one`;
    }
    return undefined;
  }

  /** A request's slot is free again (dropped, refused or answered). */
  private release(): void {
    this.inFlight -= 1;
    this.wakeReaders();
  }

  /** At most one warning a second: entries are attacker-writable, the log must not be. */
  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_INTERVAL_MS) {
      this.suppressedWarnings += 1;
      return;
    }
    const suppressed = this.suppressedWarnings;
    this.lastWarnAt = now;
    this.suppressedWarnings = 0;
    this.options.onWarning?.(suppressed > 0 ? `${message} (and ${suppressed} more since the last warning)` : message);
  }

  private track(job: Promise<void>): void {
    const tracked = job.finally(() => {
      this.running.delete(tracked);
      this.wakeReaders();
    });
    this.running.add(tracked);
  }

  /** Which secret signed it, and whether that secret opens its pattern. */
  private admission(request: RpcRequest): Admission {
    const { serviceSecrets, internalSecrets, internalPatterns } = this.options;
    const opensToInternal = internalPatterns.has(request.pattern);
    let secret: string | undefined;
    switch (request.credential) {
      case 'service':
        secret = requestSigner(request, serviceSecrets);
        if (secret === undefined) return unauthenticated('The request is not signed with this deployment’s SERVICE_SECRET.');
        break;
      case 'internal':
        secret = requestSigner(request, internalSecrets);
        if (secret === undefined) return unauthenticated('The request is not signed with this deployment’s INTERNAL_TOKEN.');
        if (!opensToInternal) return refused(secret, 'FORBIDDEN', 'forbidden', `INTERNAL_TOKEN does not open ${request.pattern}.`);
        break;
      case 'none':
        if (!opensToInternal || internalSecrets.length > 0) return unauthenticated(`${request.pattern} needs a signed request.`);
        break;
    }
    if (!this.patterns.has(request.pattern)) return refused(secret, 'NOT_FOUND', 'not_found', `No handler for ${request.pattern}.`);
    return { authenticated: true, secret };
  }

  private async run(request: RpcRequest, admission: Admission): Promise<void> {
    try {
      await this.answer(request, admission);
    } finally {
      this.release();
    }
  }

  private async answer(request: RpcRequest, admission: Admission): Promise<void> {
    let outcome: RpcOutcome;
    if (admission.refusal) {
      outcome = { ok: false, error: admission.refusal };
    } else {
      try {
        outcome = await this.options.handle(request.pattern, parsePayload(request.data));
      } catch (error) {
        this.warn(`the handler for ${request.pattern} threw: ${error instanceof Error ? error.message : String(error)}`);
        outcome = { ok: false, error: { code: 'INTERNAL_ERROR', kind: 'internal', message: `${request.pattern} failed.`, details: [] } };
      }
    }
    // Past its deadline now: the caller has stopped listening, and the reply would only sit in Redis.
    if (Date.now() > request.deadline) return;
    let data = JSON.stringify(outcome.ok ? (outcome.data ?? null) : outcome.error);
    if (data.length > MAX_PAYLOAD_LENGTH) {
      outcome = {
        ok: false,
        error: {
          code: 'INTERNAL_ERROR',
          kind: 'internal',
          message: `${request.pattern} answered more than the wire carries.`,
          details: [],
        },
      };
      data = JSON.stringify(outcome.error);
    }
    const reply = signReply({ id: request.id, ok: outcome.ok, data }, admission.secret);
    await this.replies
      .send(request.replyTo, ['MAXLEN', '~', REPLY_STREAM_MAX, '*', ...replyFields(reply)])
      .catch((error: Error) => this.warn(`a reply to ${request.pattern} was not sent: ${error.message}`));
  }
}

function unauthenticated(message: string): Admission {
  return { authenticated: false, secret: undefined, refusal: { code: 'UNAUTHENTICATED', kind: 'unauthenticated', message, details: [] } };
}

/** A signed request that may not run: the refusal is signed like any reply. */
function refused(secret: string | undefined, code: string, kind: string, message: string): Admission {
  return { authenticated: true, secret, refusal: { code, kind, message, details: [] } };
}

/** The payload, or the refusal a handler would give for one that is not JSON (the caller always sends JSON). */
function parsePayload(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
