import { ErrorCode, ErrorCodes, ErrorDetail, ErrorKind } from '@latchkey/contracts';

export interface AppErrorOptions {
  /** Each bad field, for VALIDATION_FAILED. */
  details?: ErrorDetail[];
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterSeconds?: number;
}

/**
 * What went wrong, named by a code of the catalogue (ErrorCodes in @latchkey/contracts),
 * which gives its kind and so its HTTP status: a thrower names the situation, never the
 * status, and cannot name one the catalogue lacks. Services throw AppErrors and never
 * import HTTP types.
 */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly details: ErrorDetail[];
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.kind = ErrorCodes[code].kind;
    this.details = options.details ?? [];
    // A client told "unavailable" retries anyway; a second's wait spares the dependency a stampede.
    this.retryAfterSeconds = options.retryAfterSeconds ?? (this.kind === ErrorKind.Unavailable ? 1 : undefined);
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  /** The codes every service shares; a situation with a code of its own is `new AppError(code, …)`. */
  static validation(message: string, details: ErrorDetail[] = []): AppError {
    return new AppError('VALIDATION_FAILED', message, { details });
  }

  static unauthenticated(message = 'Missing or invalid credentials.'): AppError {
    return new AppError('UNAUTHENTICATED', message);
  }

  /** Also the answer for another tenant's ids: existence is never leaked. */
  static notFound(what: string): AppError {
    return new AppError('NOT_FOUND', `${what} not found.`);
  }

  static conflict(message: string): AppError {
    return new AppError('CONFLICT', message);
  }

  static unavailable(message: string): AppError {
    return new AppError('SERVICE_UNAVAILABLE', message);
  }
}
