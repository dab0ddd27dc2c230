import { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';

import { ServiceHarness } from '../../../../test/support/service-harness';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * What the interceptor keeps in Postgres for a replay. The HTTP behaviour (replay,
 * 409 on reuse, scopes, races) is tested over HTTP in test/e2e/platform/idempotency.e2e-spec.ts;
 * here a POST is handed to the interceptor as Nest would, and the stored row is read.
 */
describe(IdempotencyInterceptor.name, () => {
  let harness: ServiceHarness;
  let interceptor: IdempotencyInterceptor;

  beforeAll(async () => {
    harness = await ServiceHarness.start({ providers: [IdempotencyInterceptor] });
    interceptor = harness.get(IdempotencyInterceptor);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** An anonymous POST with `key`, whose handler answers `answer` with `status`. */
  function post(key: string, body: unknown, answer: unknown, status = 201) {
    const headers: Record<string, string> = {};
    const reply = {
      statusCode: status,
      status(code: number) {
        this.statusCode = code;
        return this;
      },
      header(name: string, value: string) {
        headers[name] = value;
        return this;
      },
    };
    const request = { method: 'POST', url: '/v1/auth/signup', ip: '203.0.113.9', headers: { 'idempotency-key': key }, body };
    const context = {
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
    } as unknown as ExecutionContext;
    let ran = 0;
    const handler: CallHandler = {
      handle: () => {
        ran += 1;
        return of(answer);
      },
    };
    return harness
      .inRequest(() => lastValueFrom(interceptor.intercept(context, handler)))
      .then((returned) => ({ returned, headers, status: reply.statusCode, ran }));
  }

  it('stores the replayable answer sealed, never the session token in clear', async () => {
    const token = 'lk_sess_0123456789abcdefghijklmnopqrstuv';
    const email = 'sealed@example.com';
    const answer = { data: { token, user: { email } } };
    const first = await post('sealed-key', { email }, answer);
    expect(first).toMatchObject({ returned: answer, ran: 1 });

    const rows = await harness.sql<{ response_status: number; response_sealed: string }>(
      "select response_status, response_sealed from idempotency_records where key = 'sealed-key'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].response_status).toBe(201);
    expect(rows[0].response_sealed).not.toContain(token);
    expect(rows[0].response_sealed).not.toContain(email);

    // And it opens again: a retry gets the first answer back, without running the handler.
    const retry = await post('sealed-key', { email }, { data: 'not this' });
    expect(retry).toMatchObject({ returned: answer, ran: 0, status: 201, headers: { 'idempotent-replayed': 'true' } });
  });
});
