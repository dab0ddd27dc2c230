/**
 * What went wrong, in terms every transport can map: the HTTP filter turns a kind
 * into a status code, the RPC filter into `{code, message}`. Services throw
 * AppErrors and never import HTTP types.
 */
export const ErrorKind = {
  Validation: 'validation',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  PayloadTooLarge: 'payload_too_large',
  /** A path parameter longer than the router reads (Fastify's maxParamLength). */
  UriTooLong: 'uri_too_long',
  UnsupportedMediaType: 'unsupported_media_type',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export interface ErrorDetail {
  field?: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Seconds a client should wait before retrying (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static validation(message: string, details: ErrorDetail[] = []): AppError {
    return new AppError(ErrorKind.Validation, 'VALIDATION_FAILED', message, details);
  }

  static unauthenticated(message = 'Missing or invalid credentials.'): AppError {
    return new AppError(ErrorKind.Unauthenticated, 'UNAUTHENTICATED', message);
  }

  static forbidden(message: string, code = 'FORBIDDEN'): AppError {
    return new AppError(ErrorKind.Forbidden, code, message);
  }

  /** Also the answer for another tenant's ids: existence is never leaked. */
  static notFound(what: string): AppError {
    return new AppError(ErrorKind.NotFound, 'NOT_FOUND', `${what} not found.`);
  }

  static conflict(message: string, code = 'CONFLICT'): AppError {
    return new AppError(ErrorKind.Conflict, code, message);
  }

  static rateLimited(message: string, retryAfterSeconds: number, code = 'RATE_LIMITED'): AppError {
    return new AppError(ErrorKind.RateLimited, code, message, [], retryAfterSeconds);
  }

  static unavailable(message: string, code = 'SERVICE_UNAVAILABLE', retryAfterSeconds = 1): AppError {
    return new AppError(ErrorKind.Unavailable, code, message, [], retryAfterSeconds);
  }
}

export function statusForKind(kind: ErrorKind): number {
  switch (kind) {
    case ErrorKind.Validation:
      return 400;
    case ErrorKind.Unauthenticated:
      return 401;
    case ErrorKind.Forbidden:
      return 403;
    case ErrorKind.NotFound:
      return 404;
    case ErrorKind.Conflict:
      return 409;
    case ErrorKind.PayloadTooLarge:
      return 413;
    case ErrorKind.UriTooLong:
      return 414;
    case ErrorKind.UnsupportedMediaType:
      return 415;
    case ErrorKind.RateLimited:
      return 429;
    case ErrorKind.Unavailable:
      return 503;
    default:
      return assertUnreachable(kind);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`unhandled case ${String(value)}`);
}
