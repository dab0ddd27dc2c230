import { LatchkeyError, LatchkeyUnavailableError } from '../core/errors';

/** The CLI's exit codes (docs/sdk.md#the-cli): a script branches on these, not on the message. */
export const ExitCode = {
  Ok: 0,
  /** Something unexpected: a bug in the CLI, a file it could not write. */
  Failure: 1,
  /** Bad flags, a missing argument, an unknown command, no LATCHKEY_URL. */
  Usage: 2,
  /** 401/403, or no token at all: log in again or use a key with a higher role. */
  Auth: 3,
  /** Any other 4xx: the request was understood and refused (not found, conflict, validation…). */
  Api: 4,
  /** No answer, a timeout, or a 5xx: worth retrying later. */
  Unavailable: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in how the CLI was called; the message says what to fix. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** No credentials to send: neither LATCHKEY_TOKEN nor a saved login. */
export class NotLoggedInError extends Error {
  override readonly name = 'NotLoggedInError';
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof NotLoggedInError) return ExitCode.Auth;
  if (error instanceof LatchkeyUnavailableError) return ExitCode.Unavailable;
  if (error instanceof LatchkeyError) {
    if (error.status === 401 || error.status === 403) return ExitCode.Auth;
    if (error.status >= 500) return ExitCode.Unavailable;
    if (error.status >= 400) return ExitCode.Api;
  }
  return ExitCode.Failure;
}
