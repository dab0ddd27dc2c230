import { errorFromResponse, LatchkeyError, LatchkeyUnavailableError } from './errors';
import { Page } from './pagination';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, retryDelayMs, RetryPolicy } from './retry';

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

export interface HttpClientOptions {
  /** Where Latchkey's REST API is, e.g. `https://latchkey.example.com` (without `/v1`). */
  baseUrl: string;
  /** `Authorization: Bearer <token>`: a session token or a management key. */
  token?: string;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Sent with every request (a User-Agent, say). */
  headers?: Record<string, string>;
  /** Defaults to the global fetch; a test or a proxy may pass its own. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Overrides the generated one on a POST (reuse one across your own retries too). */
  idempotencyKey?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The answer's envelope: `{ success: true, data, has_more?, next_cursor? }`. */
interface SuccessEnvelope {
  success: true;
  data: unknown;
  has_more?: boolean;
  next_cursor?: string | null;
}

/**
 * The REST core of the management client: JSON in and out through the envelope, typed
 * errors, an Idempotency-Key on every POST kept for its retries (so a retried create
 * never makes two keys), retries with back-off and jitter on connection errors and
 * 429/502/503/504 honouring Retry-After, and a timeout per attempt. Only `fetch`: it
 * runs in Node 20+ and in browsers.
 */
export class HttpClient {
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send(method, path, options)).data as T;
  }

  async page<T>(path: string, query: Record<string, QueryValue>, cursor: string | null): Promise<Page<T>> {
    const envelope = await this.send('GET', path, { query: cursor ? { ...query, cursor } : query });
    return { data: envelope.data as T[], hasMore: envelope.has_more === true, nextCursor: envelope.next_cursor ?? null };
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<SuccessEnvelope> {
    const url = this.baseUrl + path + queryString(options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? newIdempotencyKey();
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    for (let retry = 1; ; retry += 1) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body,
          signal: attemptSignal(options.timeoutMs ?? this.timeoutMs, options.signal),
        });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const failure = unavailableFrom(error, method, path);
        const wait = retryDelayMs(retry, this.policy, null);
        if (wait === null) throw failure;
        await sleep(wait);
        continue;
      }
      const parsed = await readJson(response);
      if (response.ok) {
        if (parsed.ok && isSuccess(parsed.value)) return parsed.value;
        if (response.status === 204) return { success: true, data: undefined };
        throw new LatchkeyError({
          status: response.status,
          code: 'UNREADABLE_RESPONSE',
          message: `${method} ${path} answered ${response.status} without the JSON envelope.`,
          requestId: response.headers.get('x-request-id'),
        });
      }
      const error = errorFromResponse(response.status, parsed.ok ? parsed.value : null, response.headers);
      const wait = RETRYABLE_STATUSES.has(response.status) ? retryDelayMs(retry, this.policy, response.headers.get('retry-after')) : null;
      if (wait === null) throw error;
      await sleep(wait);
    }
  }
}

function isSuccess(value: unknown): value is SuccessEnvelope {
  return typeof value === 'object' && value !== null && (value as { success?: unknown }).success === true;
}

async function readJson(response: Response): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    const text = await response.text();
    return text ? { ok: true, value: JSON.parse(text) as unknown } : { ok: false };
  } catch {
    return { ok: false };
  }
}

/** `?a=1&b=x&b=y`, skipping null and undefined; arrays as repeated parameters. */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(name, item);
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A UUID from the platform's crypto (Node 20+ and browsers have it globally). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

function attemptSignal(timeoutMs: number, outer: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  if (!outer) return timeout;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([timeout, outer]);
  // Node 20.0–20.2 has no AbortSignal.any.
  const both = new AbortController();
  for (const signal of [timeout, outer]) signal.addEventListener('abort', () => both.abort(signal.reason), { once: true });
  return both.signal;
}

function unavailableFrom(error: unknown, method: string, path: string): LatchkeyUnavailableError {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  return new LatchkeyUnavailableError({
    code: timedOut ? 'TIMEOUT' : 'CONNECTION_FAILED',
    reason: timedOut ? 'timeout' : 'connection',
    message: timedOut ? `${method} ${path} got no answer in time.` : `${method} ${path} could not reach Latchkey.`,
    cause: error,
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
