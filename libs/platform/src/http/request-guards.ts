import { STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';

import { Logger } from '@nestjs/common';
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { sendError } from '../errors/all-exceptions.filter';
import { AppError } from '../errors/app-error';
import { errorEnvelope } from '../errors/error-envelope';
import { refuseHostileInput } from './hostile-input';
import { newRequestId } from './request-id';

const logger = new Logger('HttpServer');

/**
 * Every Fastify route's body, query string and path parameters, checked once after
 * parsing and before Nest (guards, interceptors, pipes) sees them: strings Postgres
 * cannot store and JSON nested past MAX_JSON_DEPTH are a 400 naming the field, not a
 * 500 from the database or a stack overflow in whatever walks the value first.
 * The front door's routes (/v1/verify, /v1/check) do not pass here; their own schema
 * refuses such strings (assertStorableText in auth-check).
 */
export function guardRequestInput(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const refusal =
      refuseHostileInput(request.params, 'params') ??
      refuseHostileInput(request.query, 'query') ??
      refuseHostileInput(request.body, 'body');
    done(refusal ?? undefined);
  });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route or hook runs
 * (a URL that is not valid percent-encoding, a path parameter over maxParamLength).
 * Answered in the envelope like everything else; the onRequest hook never ran, so the
 * request id header is set here.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
  sendError(error, request, reply, logger);
}

/** A malformed HTTP message: Node cannot say more, and no route ever saw it. */
const CLIENT_ERRORS: Record<string, () => AppError> = {
  HPE_HEADER_OVERFLOW: () => new AppError('HEADERS_TOO_LARGE', 'The request headers are larger than the server reads.'),
  ERR_HTTP_REQUEST_TIMEOUT: () => new AppError('REQUEST_TIMEOUT', 'The request was not received in time.'),
};

/**
 * Fastify's `clientErrorHandler` (the server's 'clientError' event, on every route,
 * the front door's included): the envelope written straight on the socket, as Node
 * and Fastify do by default with their own bodies, then the connection closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code ? CLIENT_ERRORS[error.code]?.() : undefined;
  const appError = known ?? new AppError('MALFORMED_REQUEST', 'The request is not a well-formed HTTP message.');
  const { status } = appError;
  const requestId = newRequestId();
  const body = JSON.stringify(errorEnvelope(appError, requestId));
  // Nothing may have been written yet: a half-sent answer cannot be followed by another.
  if (socket.writable && socket.bytesWritten === 0) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
