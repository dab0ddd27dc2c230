import { ErrorCodes } from '@latchkey/contracts';

import { rpcErrorReply } from './all-exceptions.filter';
import { AppError } from './app-error';

describe(AppError.name, () => {
  it('takes its kind and status from the catalogue', () => {
    const error = new AppError('EMAIL_TAKEN', 'Taken.');
    expect({ code: error.code, kind: error.kind, status: error.status, details: error.details }).toEqual({
      code: 'EMAIL_TAKEN',
      kind: 'conflict',
      status: 409,
      details: [],
    });
  });

  it('accepts only codes of the catalogue', () => {
    // @ts-expect-error a code the catalogue lacks does not compile
    const unknown = () => new AppError('NOT_IN_THE_CATALOGUE', 'x');
    expect(unknown).toThrow(TypeError);
  });

  it('asks a client to wait a second after an outage unless told how long', () => {
    expect(AppError.unavailable('Down.').retryAfterSeconds).toBe(1);
    expect(new AppError('ACCOUNT_LOCKED', 'Locked.', { retryAfterSeconds: 900 }).retryAfterSeconds).toBe(900);
    expect(AppError.validation('Bad.').retryAfterSeconds).toBeUndefined();
  });

  it.each(Object.keys(ErrorCodes) as (keyof typeof ErrorCodes)[])('builds %s with the status the docs list', (code) => {
    expect(new AppError(code, 'x').status).toBe(ErrorCodes[code].status);
  });
});

describe(rpcErrorReply.name, () => {
  it('sends the kind, the details and the wait along with the code', () => {
    const details = [{ field: 'org_id', message: 'org_id is required' }];
    expect(rpcErrorReply(AppError.validation('org_id is required', details))).toEqual({
      code: 'VALIDATION_FAILED',
      kind: 'validation',
      message: 'org_id is required',
      details,
    });
    expect(rpcErrorReply(new AppError('TOO_MANY_REQUESTS', 'Later.', { retryAfterSeconds: 60 }))).toEqual({
      code: 'TOO_MANY_REQUESTS',
      kind: 'rate_limited',
      message: 'Later.',
      details: [],
      retry_after_seconds: 60,
    });
  });
});
