import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { throwError } from 'rxjs';

import { statusForKind } from './app-error';
import { errorEnvelope, internalErrorEnvelope } from './error-envelope';
import { toAppError } from './to-app-error';

/**
 * The one place errors become answers: the spec's envelope over HTTP,
 * `{code, message}` over the Redis transport. Unknown errors are logged in full
 * and answered with a request id only.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost) {
    const appError = toAppError(exception);
    if (host.getType() === 'rpc') {
      if (!appError) this.logger.error({ err: exception }, 'unexpected error in a message handler');
      const reply = appError
        ? { code: appError.code, message: appError.message, details: appError.details }
        : { code: 'INTERNAL_ERROR', message: 'Unexpected error.' };
      return throwError(() => reply);
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendError(exception, request, reply, this.logger);
  }
}

/** Shared by the filter and Fastify's own error handler (errors before routing: body parsing, size). */
export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const appError = toAppError(exception);
  const requestId = String(request.id);
  if (reply.sent) return;
  if (!appError) {
    logger.error({ err: exception, request_id: requestId }, 'unhandled error');
    void reply.status(500).header('content-type', 'application/json').send(internalErrorEnvelope(requestId));
    return;
  }
  if (appError.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(Math.max(1, Math.ceil(appError.retryAfterSeconds))));
  }
  void reply.status(statusForKind(appError.kind)).header('content-type', 'application/json').send(errorEnvelope(appError, requestId));
}
