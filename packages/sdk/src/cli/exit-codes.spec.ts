import {
  LatchkeyApiError,
  LatchkeyAuthenticationError,
  LatchkeyConflictError,
  LatchkeyError,
  LatchkeyNotFoundError,
  LatchkeyPermissionError,
  LatchkeyRateLimitError,
  LatchkeyUnavailableError,
  LatchkeyValidationError,
} from '../core/errors';
import { ExitCode, exitCodeFor, NotLoggedInError, UsageError } from './exit-codes';

const answer = (Kind: typeof LatchkeyError, status: number) => new Kind({ status, code: `HTTP_${status}`, message: 'm' });

describe('exitCodeFor', () => {
  it.each([
    ['a usage error', new UsageError('bad flag'), ExitCode.Usage],
    ['no credentials', new NotLoggedInError('log in'), ExitCode.Auth],
    ['401', answer(LatchkeyAuthenticationError, 401), ExitCode.Auth],
    ['403', answer(LatchkeyPermissionError, 403), ExitCode.Auth],
    ['400', answer(LatchkeyValidationError, 400), ExitCode.Api],
    ['404', answer(LatchkeyNotFoundError, 404), ExitCode.Api],
    ['409', answer(LatchkeyConflictError, 409), ExitCode.Api],
    ['429', answer(LatchkeyRateLimitError, 429), ExitCode.Api],
    ['413', answer(LatchkeyApiError, 413), ExitCode.Api],
    ['500', answer(LatchkeyApiError, 500), ExitCode.Unavailable],
    [
      'no connection',
      new LatchkeyUnavailableError({ code: 'CONNECTION_FAILED', message: 'm', reason: 'connection' }),
      ExitCode.Unavailable,
    ],
    ['a timeout', new LatchkeyUnavailableError({ code: 'TIMEOUT', message: 'm', reason: 'timeout' }), ExitCode.Unavailable],
    ['anything else', new TypeError('bug'), ExitCode.Failure],
  ])('maps %s to its exit code', (_, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('keeps the documented numbers', () => {
    expect(ExitCode).toEqual({ Ok: 0, Failure: 1, Usage: 2, Auth: 3, Api: 4, Unavailable: 5 });
  });
});
