import type { Cluster, Redis } from 'ioredis';

import { RpcRefusedError, RpcTimeoutError, RpcUnavailableError } from './errors';
import { PerKeyPipeline } from './per-key-pipeline';
import {
  MAX_DEADLINE_MS,
  MAX_PAYLOAD_LENGTH,
  parseReply,
  randomId,
  replySignedBy,
  replyStreamKey,
  requestFields,
  requestStreamKey,
  RpcCredential,
  RpcErrorBody,
  RpcReply,
  serviceOf,
  signRequest,
} from './wire';

export type RedisConnection = Redis | Cluster;

export interface RpcCallerOptions {
  /** Opens a new connection; called twice: one for commands, one kept blocked reading replies. */
  connect: () => RedisConnection;
  /** The deployment's REDIS_PREFIX: callers and servers must agree on it. */
  prefix: string;
  credential: RpcCredential;
  /** How long a call waits for its reply unless told otherwise. */
  defaultTimeoutMs?: number;
  /** Replies this caller drops (unsigned, forged, unreadable): worth a log line, never a crash. */
  onWarning?: (message: string) => void;
}

interface PendingCall {
  pattern: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const READ_BLOCK_MS = 2_000;
const READ_BATCH = 256;
const READ_RETRY_MS = 250;

/**
 * Calls Latchkey's services over Redis: each call is an entry on the service's
 * request stream, taken by exactly one instance, and its reply comes back on this
 * caller's own stream. A call always settles: with the reply, an RpcRefusedError
 * carrying the handler's refusal, an RpcTimeoutError after its deadline (a request
 * still waiting then is never run: servers skip expired ones), or an RpcUnavailableError.
 */
export class RedisRpcCaller {
  readonly callerId = randomId();
  /** Opened by the first call: a process that never calls (a worker, say) holds no connection. */
  private connections: { commands: RedisConnection; reader: RedisConnection; requests: PerKeyPipeline } | undefined;
  private readonly replyKey: string;
  private readonly pending = new Map<string, PendingCall>();
  private readonly defaultTimeoutMs: number;
  private lastReplyId = '0-0';
  private readLoop: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RpcCallerOptions) {
    this.defaultTimeoutMs = clampTimeout(options.defaultTimeoutMs ?? 2_000);
    this.replyKey = replyStreamKey(options.prefix, this.callerId, options.credential.name === 'service');
  }

  private open(): { commands: RedisConnection; reader: RedisConnection; requests: PerKeyPipeline } {
    if (this.connections) return this.connections;
    const commands = this.options.connect();
    const reader = this.options.connect();
    // ioredis reconnects by itself; a call made meanwhile fails or times out on its own.
    for (const connection of [commands, reader]) connection.on('error', () => undefined);
    this.connections = { commands, reader, requests: new PerKeyPipeline(commands, 'XADD') };
    this.readLoop = this.readReplies(reader);
    return this.connections;
  }

  async call<TReply = unknown>(pattern: string, payload: unknown, options: { timeoutMs?: number } = {}): Promise<TReply> {
    if (this.closed) throw new RpcUnavailableError(pattern, 'the caller is closed');
    const timeoutMs = clampTimeout(options.timeoutMs ?? this.defaultTimeoutMs);
    const data = JSON.stringify(payload ?? null);
    if (data.length > MAX_PAYLOAD_LENGTH) throw new RpcUnavailableError(pattern, `the payload is over ${MAX_PAYLOAD_LENGTH} characters`);
    const { requests } = this.open();

    const now = Date.now();
    const request = signRequest(
      { id: randomId(), pattern, replyTo: this.replyKey, deadline: now + timeoutMs, data },
      this.options.credential,
    );
    const answer = new Promise<TReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(request.id);
        reject(new RpcTimeoutError(pattern, timeoutMs));
      }, timeoutMs);
      this.pending.set(request.id, { pattern, resolve: resolve, reject, timer });
    });
    // Entries older than the longest deadline are trimmed as new ones arrive: with no
    // instance reading, the stream holds a minute of requests, not all of them. Exact
    // trimming costs nothing here: the stream is empty whenever an instance is reading.
    const oldestKept = `${Math.max(0, now - MAX_DEADLINE_MS)}-0`;
    requests
      .send(requestStreamKey(this.options.prefix, serviceOf(pattern)), ['MINID', oldestKept, '*', ...requestFields(request)])
      .catch((error: Error) => this.settle(request.id, (call) => call.reject(new RpcUnavailableError(pattern, error.message))));
    return answer;
  }

  /** Stops reading replies; calls still waiting fail as unavailable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id] of this.pending) this.settle(id, (call) => call.reject(new RpcUnavailableError(call.pattern, 'the caller closed')));
    if (!this.connections) return;
    const { commands, reader } = this.connections;
    reader.disconnect();
    await this.readLoop?.catch(() => undefined);
    await commands.quit().catch(() => commands.disconnect());
  }

  private settle(id: string, finish: (call: PendingCall) => void): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    finish(call);
  }

  private async readReplies(reader: RedisConnection): Promise<void> {
    // Replies read by the last XREAD: deleted by the next one's pipeline, so reading a batch
    // costs one write and one round trip on the reader (a reply may hold a tenant's records,
    // and the stream must not keep them once read).
    let read: string[] = [];
    while (!this.closed) {
      let result: unknown;
      try {
        result = await this.nextReplies(reader, read);
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        continue;
      }
      const entries = streamEntries(result);
      for (const [entryId, fields] of entries) {
        this.lastReplyId = entryId;
        const reply = parseReply(fields);
        if (reply) this.take(reply);
        else this.options.onWarning?.('an unreadable reply was dropped');
      }
      read = entries.map(([entryId]) => entryId);
    }
  }

  /** XREAD of the replies after the last one read, after an XDEL of `read` in the same pipeline when there are any. */
  private async nextReplies(reader: RedisConnection, read: string[]): Promise<unknown> {
    const args = ['COUNT', READ_BATCH, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.replyKey, this.lastReplyId];
    if (read.length === 0) return reader.call('XREAD', ...args);
    const results = await reader
      .pipeline()
      .xdel(this.replyKey, ...read)
      .call('XREAD', ...args)
      .exec();
    const [error, value] = results?.[1] ?? [new Error('the read was not run'), null];
    if (error) throw error;
    return value;
  }

  private take(reply: RpcReply): void {
    const call = this.pending.get(reply.id);
    if (!call) return; // timed out already, or a reply to another caller's id
    const trust = trustOf(reply, this.options.credential.secret);
    if (trust === 'none') {
      this.options.onWarning?.(`a reply to ${call.pattern} with a bad signature was dropped`);
      return;
    }
    if (trust === 'unsigned refusal') {
      // Its text is not the server's word (anyone could have written it): only the code is kept.
      this.settle(reply.id, (pending) => pending.reject(new RpcRefusedError(pending.pattern, UNVERIFIED_CALLER)));
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(reply.data);
    } catch {
      this.options.onWarning?.(`a reply to ${call.pattern} that is not JSON was dropped`);
      return;
    }
    this.settle(reply.id, (pending) =>
      reply.ok ? pending.resolve(data) : pending.reject(new RpcRefusedError(pending.pattern, errorBody(data))),
    );
  }
}

const UNVERIFIED_CALLER = {
  code: 'UNAUTHENTICATED',
  kind: 'unauthenticated',
  message: "The service could not verify this caller's signature: check the credential and its secret.",
  details: [],
};

/**
 * A reply must carry this caller's signature, with one exception: the server's
 * "I could not check your signature" refusal, which it cannot sign. That one is
 * taken (a wrong secret then fails fast instead of timing out) but only as the code
 * UNAUTHENTICATED, so a forged unsigned reply can refuse a call, never answer one.
 * It does not prove the request did not run: a forgery may race the genuine reply.
 */
function trustOf(reply: RpcReply, secret: string | undefined): 'signed' | 'unsigned refusal' | 'none' {
  // An unsigned caller (a deployment without INTERNAL_TOKEN) has nothing to check a reply against.
  if (secret === undefined) return 'signed';
  if (replySignedBy(reply, secret)) return 'signed';
  if (reply.ok || reply.signature !== '') return 'none';
  try {
    return (JSON.parse(reply.data) as { code?: unknown } | null)?.code === 'UNAUTHENTICATED' ? 'unsigned refusal' : 'none';
  } catch {
    return 'none';
  }
}

/** A whole number of milliseconds from 1 to MAX_DEADLINE_MS: anything else would make a deadline no server honours. */
function clampTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) return 1;
  return Math.min(Math.ceil(timeoutMs), MAX_DEADLINE_MS);
}

/** Entries of an XREAD answer for one stream: [[key, [[id, fields], …]]]. */
export function streamEntries(result: unknown): Array<[string, string[]]> {
  if (!Array.isArray(result) || result.length === 0) return [];
  const stream = result[0] as [string, Array<[string, string[]]>];
  return Array.isArray(stream?.[1]) ? stream[1] : [];
}

function errorBody(data: unknown): RpcErrorBody {
  const body = data as Partial<RpcErrorBody> | null;
  if (body && typeof body.code === 'string' && typeof body.message === 'string') return body as RpcErrorBody;
  return { code: 'INTERNAL_ERROR', message: 'The service answered with an unreadable error.' };
}
