import { LatchkeyConflictError, LatchkeyUnavailableError } from './errors';
import { HttpClient, queryString } from './http-client';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A scripted fetch: each call takes the next answer (a Response, or an error to throw). */
function scripted(answers: Array<Response | Error>) {
  const sent: Sent[] = [];
  const fetchImpl = (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: init?.headers as Record<string, string>,
      body: init?.body as string | undefined,
    });
    const next = answers.shift();
    if (!next) throw new Error('no more answers scripted');
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { sent, fetchImpl };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const connectionReset = () => Object.assign(new TypeError('fetch failed'), { cause: new Error('ECONNRESET') });

describe(HttpClient.name, () => {
  const client = (answers: Array<Response | Error>) => {
    const script = scripted(answers);
    const sut = new HttpClient({
      baseUrl: 'http://latchkey.test/',
      token: 'tok',
      fetch: script.fetchImpl,
      retry: { baseDelayMs: 1, maxDelayMs: 1_000 },
    });
    return { sut, sent: script.sent };
  };

  it('sends JSON with the bearer token and answers the envelope data', async () => {
    const { sut, sent } = client([json(200, { success: true, data: { id: 'key_1' } })]);
    expect(await sut.request('PATCH', '/v1/api-keys/key_1', { body: { name: 'n' } })).toEqual({ id: 'key_1' });
    expect(sent[0]).toMatchObject({ url: 'http://latchkey.test/v1/api-keys/key_1', method: 'PATCH', body: '{"name":"n"}' });
    expect(sent[0].headers).toMatchObject({ authorization: 'Bearer tok', 'content-type': 'application/json' });
    expect(sent[0].headers['idempotency-key']).toBeUndefined();
  });

  it('keeps one Idempotency-Key for a POST across its retries, after a lost connection and a 503', async () => {
    const { sut, sent } = client([
      connectionReset(),
      json(503, { success: false, error: { code: 'SERVICE_UNAVAILABLE' } }),
      json(201, { success: true, data: 1 }),
    ]);
    expect(await sut.request('POST', '/v1/api-keys', { body: {} })).toBe(1);
    expect(sent).toHaveLength(3);
    const keys = sent.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('gives each POST its own key, or the one it was given', async () => {
    const { sut, sent } = client([
      json(200, { success: true, data: 1 }),
      json(200, { success: true, data: 2 }),
      json(200, { success: true, data: 3 }),
    ]);
    await sut.request('POST', '/a');
    await sut.request('POST', '/a');
    await sut.request('POST', '/a', { idempotencyKey: 'mine' });
    expect(sent[0].headers['idempotency-key']).not.toBe(sent[1].headers['idempotency-key']);
    expect(sent[2].headers['idempotency-key']).toBe('mine');
  });

  it('retries 429 as Retry-After says, and does not retry a 409', async () => {
    const limited = client([
      json(429, { success: false, error: { code: 'RATE_LIMITED' } }, { 'retry-after': '0' }),
      json(200, { success: true, data: 'ok' }),
    ]);
    expect(await limited.sut.request('GET', '/v1/orgs')).toBe('ok');
    const conflict = client([json(409, { success: false, error: { code: 'KEY_REVOKED', message: 'revoked', request_id: 'req_9' } })]);
    await expect(conflict.sut.request('POST', '/v1/api-keys/key_1/roll')).rejects.toBeInstanceOf(LatchkeyConflictError);
    expect(conflict.sent).toHaveLength(1);
  });

  it('gives up after its retries with LatchkeyUnavailableError', async () => {
    const { sut, sent } = client([connectionReset(), connectionReset(), connectionReset()]);
    const failure = sut.request('GET', '/v1/orgs');
    await expect(failure).rejects.toBeInstanceOf(LatchkeyUnavailableError);
    await expect(failure).rejects.toMatchObject({ status: 503, code: 'CONNECTION_FAILED', reason: 'connection' });
    expect(sent).toHaveLength(3);
  });

  it('reads a page with its cursor', async () => {
    const { sut, sent } = client([json(200, { success: true, data: [1], has_more: true, next_cursor: 'abc' })]);
    expect(await sut.page('/v1/api-keys', { limit: 1 }, 'prev')).toEqual({ data: [1], hasMore: true, nextCursor: 'abc' });
    expect(sent[0].url).toBe('http://latchkey.test/v1/api-keys?limit=1&cursor=prev');
  });
});

describe(queryString.name, () => {
  it('skips empty values and repeats arrays', () => {
    expect(queryString({ a: 1, b: undefined, c: null, d: ['x', 'y'], e: true })).toBe('?a=1&d=x&d=y&e=true');
    expect(queryString({})).toBe('');
    expect(queryString(undefined)).toBe('');
  });
});
