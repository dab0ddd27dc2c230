import type { RpcErrorBody } from './wire';

/** The handler answered with a refusal (a validation error, a 404, a rate limit…): `body` says which. */
export class RpcRefusedError extends Error {
  override readonly name = 'RpcRefusedError';

  constructor(
    readonly pattern: string,
    readonly body: RpcErrorBody,
  ) {
    super(`${pattern} refused: ${body.code}: ${body.message}`);
  }
}

/** No reply within the deadline: no instance took the request in time, or its reply was lost. */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';

  constructor(
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(`${pattern} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Redis failed the send, or the caller closed with the call pending. The request may
 * still have reached Redis and run: a caller that must not spend twice treats this as
 * it treats a timeout, not as "not run".
 */
export class RpcUnavailableError extends Error {
  override readonly name = 'RpcUnavailableError';

  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`${pattern} could not be sent: ${reason}`);
  }
}
