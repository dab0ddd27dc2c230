import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { throwError } from 'rxjs';

import { ErrorKind, RpcErrorReply } from '@latchkey/contracts';

import { AppError } from './app-error';
import { ErrorEnvelope, errorEnvelope, internalErrorEnvelope } from './error-envelope';
import { toAppError } from './to-app-error';

/**
 * The one place errors become answers: the envelope over HTTP, an RpcErrorReply over
 * the Redis transport. Unknown errors are logged in full and answered with a request id
 * only (over HTTP) or INTERNAL_ERROR (over RPC, where the caller logs its own request id).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost) {
    const appError = toAppError(exception);
    if (host.getType() === 'rpc') {
      if (!appError) this.logger.error({ err: exception }, 'unexpected error in a message handler');
      const reply = rpcErrorReply(appError ?? new AppError('INTERNAL_ERROR', 'Unexpected error.'));
      return throwError(() => reply);
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendError(exception, request, reply, this.logger);
  }
}

/**
 * All an RPC caller needs to rebuild the AppError. The kind is sent for readers of the
 * wire; the client rebuilds it from the code's catalogue entry, which it trusts more.
 */
export function rpcErrorReply(error: AppError): RpcErrorReply {
  const reply: RpcErrorReply = { code: error.code, kind: error.kind, message: error.message, details: error.details };
  if (error.retryAfterSeconds !== undefined) reply.retry_after_seconds = error.retryAfterSeconds;
  return reply;
}

/** Shared by the filter and Fastify's own error handler (errors before routing: body parsing, size). */
export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  if (reply.sent) return;
  const answer = errorAnswer(exception, String(request.id), logger);
  void reply.status(answer.status).headers(answer.headers).send(answer.body);
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: ErrorEnvelope;
}

/**
 * What any HTTP answer to `exception` is, whoever writes it (Fastify's reply or the
 * front door's raw response). Unexpected errors are logged here, with the request id.
 */
export function errorAnswer(exception: unknown, requestId: string, logger: Logger): ErrorAnswer {
  const appError = toAppError(exception);
  // INTERNAL_ERROR as an AppError is another service's fault relayed over RPC: still ours, still hidden.
  if (!appError || appError.kind === ErrorKind.Internal) {
    logger.error({ err: exception, request_id: requestId }, 'unhandled error');
    return { status: 500, headers: { 'content-type': 'application/json' }, body: internalErrorEnvelope(requestId) };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (appError.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(appError.retryAfterSeconds)));
  return { status: appError.status, headers, body: errorEnvelope(appError, requestId) };
}
