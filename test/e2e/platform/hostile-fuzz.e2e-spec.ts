import { request } from 'node:http';

import { AuthCheckPattern, KeysPattern, OrgsPattern } from '@latchkey/contracts';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import {
  deeplyNested,
  encodeHostile,
  HOSTILE_NUMBERS,
  HOSTILE_STRINGS,
  refResolver,
  Schema,
  SeededRandom,
  valueFor,
  WRONG_TYPES,
} from '../../support/fuzz';
import { rpcCall, rpcCaller } from '../../support/rpc-caller';

/**
 * A schema-driven fuzz of every operation of the all-in-one process's OpenAPI document,
 * and of every Redis-transport pattern: hostile strings and numbers in every field,
 * query parameter, path parameter and key header, wrong types, deep nesting, broken
 * JSON. It fails on any 5xx, any error outside the envelope, and any request left
 * unanswered. The budget is fixed; the seed is random unless FUZZ_SEED is set, and
 * a failure names it so the run can be replayed:
 *   FUZZ_SEED=<seed> npm test -- test/e2e/platform/hostile-fuzz.e2e-spec.ts
 */
const HTTP_REQUESTS = 700;
const RPC_MESSAGES = 150;
const CONCURRENCY = 4;
const ANSWER_WITHIN_MS = 10_000;
/** Logging out would end the session every other request uses. */
const SKIPPED = new Set(['POST /v1/auth/logout']);

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: string; schema?: Schema }[];
  body?: Schema;
}

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

interface Finding {
  request: string;
  answer: string;
}

describe(`hostile input fuzz (seed ${seed})`, () => {
  let sut: TestApp;
  let owner: UserSession;
  let operations: Operation[];
  let resolve: ReturnType<typeof refResolver>;
  let realIds: string[];

  beforeAll(async () => {
    sut = await TestApp.start();
    owner = await signUp(sut);
    const document = (await sut.get('/v1/openapi.json')).body;
    resolve = refResolver(document);
    operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods)
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          path,
          parameters: operation.parameters ?? [],
          body: operation.requestBody?.content?.['application/json']?.schema,
        }))
        .filter((operation) => !SKIPPED.has(`${operation.method} ${operation.path}`)),
    );
    const key = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'fuzzed', environment: 'test' } });
    const members = await sut.get('/v1/members', { token: owner.token });
    realIds = [key.body.data.id, members.body.data[0].id, owner.orgId, owner.userId];
  });

  afterAll(async () => {
    await sut.close();
  });

  const replay = `replay with FUZZ_SEED=${seed} npm test -- test/e2e/platform/hostile-fuzz.e2e-spec.ts`;

  it(`answers ${HTTP_REQUESTS} hostile HTTP requests over every documented operation with a 4xx or 2xx in the envelope`, async () => {
    expect(operations.length).toBeGreaterThan(30);
    const random = new SeededRandom(seed);
    const requests = Array.from({ length: HTTP_REQUESTS }, (_, i) => buildRequest(operations[i % operations.length], random));
    const findings: Finding[] = [];
    await inParallel(requests, CONCURRENCY, async (sent) => {
      const finding = judge(sent, await send(sut.baseUrl, sent));
      if (finding) findings.push(finding);
    });
    // The session the fuzz used still works: nothing hostile broke the process.
    expect((await sut.get('/v1/orgs/current', { token: owner.token })).status).toBe(200);
    expect({ replay, findings: findings.slice(0, 10), count: findings.length }).toEqual({ replay, findings: [], count: 0 });
  });

  it(`answers ${RPC_MESSAGES} hostile Redis-transport messages with a result or a {code, message} error`, async () => {
    const client = rpcCaller(sut.config);
    try {
      const random = new SeededRandom(seed ^ 0x5eed);
      const patterns = [
        AuthCheckPattern.VerifyKey,
        KeysPattern.Lookup,
        KeysPattern.Get,
        OrgsPattern.GetOrganization,
        OrgsPattern.GetMemberRole,
      ];
      const fields = ['key', 'hash', 'id', 'key_id', 'org_id', 'user_id', 'path', 'method', 'ip', 'permissions', 'environment', 'cost'];
      const findings: Finding[] = [];
      for (let i = 0; i < RPC_MESSAGES; i += 1) {
        const pattern = patterns[i % patterns.length];
        const payload = random.chance(0.2) ? random.pick(WRONG_TYPES) : hostilePayload(fields, realIds, random);
        const described = `${pattern} ${safeJson(payload)}`;
        try {
          const reply = await rpcCall<unknown>(client, pattern, payload, ANSWER_WITHIN_MS);
          if (reply === undefined) findings.push({ request: described, answer: 'no reply value' });
        } catch (error) {
          const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
          const inEnvelope = typeof code === 'string' && /^[A-Z_]+$/.test(code) && code !== 'INTERNAL' && typeof message === 'string';
          if (!inEnvelope) findings.push({ request: described, answer: safeJson(error) });
        }
      }
      expect({ replay, findings: findings.slice(0, 10), count: findings.length }).toEqual({ replay, findings: [], count: 0 });
    } finally {
      await client.close();
    }
  });

  function buildRequest(operation: Operation, random: SeededRandom): Sent {
    const hostility = random.pick([0.1, 0.3, 0.8]);
    let path = operation.path.replace(/\{(\w+)\}/g, () =>
      random.chance(0.4) ? random.pick(realIds) : random.chance(0.3) ? `key_${'0'.repeat(26)}` : rawHostileSegment(random),
    );
    const query: string[] = [];
    for (const parameter of operation.parameters.filter((p) => p.in === 'query')) {
      if (!random.chance(0.6)) continue;
      const value = random.chance(hostility) ? random.pick(HOSTILE_STRINGS) : String(valueFor(parameter.schema ?? {}, resolve, random, 0));
      query.push(`${parameter.name}=${encodeHostile(value)}`);
    }
    if (random.chance(0.05)) query.push(`${encodeHostile(random.pick(HOSTILE_STRINGS))}=1`);
    if (query.length > 0) path += `?${query.join('&')}`;

    const headers: Record<string, string> = { authorization: `Bearer ${owner.token}` };
    if (random.chance(0.1)) headers.authorization = `Bearer ${latin1(random.pick(HOSTILE_STRINGS))}`;
    if (random.chance(0.1)) headers['x-api-key'] = latin1(random.pick(HOSTILE_STRINGS));
    if (random.chance(0.1)) headers['idempotency-key'] = latin1(random.pick(HOSTILE_STRINGS));
    if (random.chance(0.03)) headers['x-request-id'] = latin1(random.pick(HOSTILE_STRINGS));

    let body: string | undefined;
    if (operation.body || random.chance(0.1)) {
      const roll = random.next();
      if (roll < 0.05) body = deeplyNested(random.pick([100, 5_000, 100_000]));
      else if (roll < 0.1) body = random.pick(['{"a":', '[1,2', '"\\ud800"', '{"a":"\\u0000"}', 'not json', '']);
      else if (roll < 0.13) body = JSON.stringify({ filler: 'x'.repeat(2_000_000) });
      else body = JSON.stringify(valueFor(operation.body ?? {}, resolve, random, hostility));
      headers['content-type'] = random.chance(0.05)
        ? random.pick(['text/plain', 'application/xml', 'application/json; charset=latin1'])
        : 'application/json';
    }
    return { method: operation.method, url: path, headers, body };
  }
});

/** Path segments as raw URL text: broken escapes, an encoded NUL, dot segments, a length past Fastify's limit. */
function rawHostileSegment(random: SeededRandom): string {
  return random.pick([
    '%00',
    '%E0%A4%A',
    '%ED%A0%80',
    '%2e%2e',
    '..',
    '%2F',
    '%5C',
    'x'.repeat(1_000),
    '%25',
    encodeHostile(random.pick(HOSTILE_STRINGS)),
  ]);
}

function hostilePayload(fields: string[], realIds: string[], random: SeededRandom): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of fields) {
    if (!random.chance(0.4)) continue;
    const roll = random.next();
    payload[field] =
      roll < 0.2
        ? random.pick(realIds)
        : roll < 0.6
          ? random.pick(HOSTILE_STRINGS)
          : roll < 0.8
            ? random.pick(HOSTILE_NUMBERS)
            : random.pick(WRONG_TYPES);
  }
  return payload;
}

/** A header can only carry latin-1 without control characters; anything else would be refused by the client, not the server. */
function latin1(value: string): string {
  return Array.from(value.slice(0, 8_000), (char) => (/^[\x20-\x7e\xa0-\xff]$/.test(char) ? char : '?')).join('');
}

function send(baseUrl: string, sent: Sent): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const outgoing = request(`${baseUrl}${sent.url}`, { method: sent.method, headers: sent.headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', (error) => resolve({ error: error.message }));
    });
    outgoing.setTimeout(ANSWER_WITHIN_MS, () => {
      outgoing.destroy();
      resolve({ error: `no answer within ${ANSWER_WITHIN_MS} ms` });
    });
    outgoing.on('error', (error) => resolve({ error: error.message }));
    outgoing.end(sent.body);
  });
}

/** Why this answer breaks the promise of the spec, or null when it keeps it. */
function judge(sent: Sent, answer: { status: number; body: string } | { error: string }): Finding | null {
  const described = `${sent.method} ${sent.url.slice(0, 300)} ${JSON.stringify(sent.headers).slice(0, 200)} ${sent.body?.slice(0, 300) ?? ''}`;
  if ('error' in answer) return { request: described, answer: answer.error };
  const finding = (why: string) => ({ request: described, answer: `${answer.status} ${why}: ${answer.body.slice(0, 300)}` });
  if (answer.status >= 500) return finding('server error');
  if (answer.status < 400) return null;
  let body: any;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return finding('not JSON');
  }
  const inEnvelope =
    body?.success === false &&
    typeof body.error?.code === 'string' &&
    typeof body.error?.message === 'string' &&
    typeof body.error?.request_id === 'string' &&
    body.error.request_id.startsWith('req_');
  return inEnvelope ? null : finding('outside the error envelope');
}

async function inParallel<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}
