import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FastifyReply, FastifyRequest } from 'fastify';

import { VERIFY_KEY_REQUEST } from '@latchkey/contracts';
import { ApiEnvelope, ErrorResponseDto, Public, RawResponse } from '@latchkey/platform';

import { FrontDoorAnswer, FrontDoorRequest } from '../front-door/front-door';
import { KeyVerdictResponseDto } from './dto/key-verdict-response.dto';
import { KeyChecksHttpHandler } from './key-checks.http.handler';

/**
 * The HTTP routes of the checks, as documented. In a running process the front door
 * (KeyChecksFrontDoor) answers them before Fastify; what still reaches these methods
 * (HEAD, in-process injection) goes through the same KeyChecksHttpHandler, so the
 * answers cannot differ.
 */
@ApiTags('auth-check')
@ApiSecurity('internalToken')
@ApiHeader({ name: 'x-internal-token', required: false, description: 'Required when the deployment sets INTERNAL_TOKEN' })
@Controller('v1')
@Public()
@RawResponse()
export class KeyChecksHttpController {
  constructor(private readonly handler: KeyChecksHttpHandler) {}

  /** 200 with the verdict whether or not the key passes; 400 only for a malformed body. */
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Verify a key (200 with the verdict whether or not it passes)' })
  @ApiBody({ schema: VERIFY_KEY_REQUEST.schema as unknown as SchemaObject })
  @ApiEnvelope(KeyVerdictResponseDto)
  async verify(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    return send(reply, await this.handler.verify(asFrontDoorRequest(request)));
  }

  /**
   * Forward auth (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz): the key
   * from the caller's headers, the original request from X-Forwarded-*, and what to
   * require from the query: `?permissions=a,b&environment=live&cost=2`.
   */
  @Get('check')
  @ApiOperation({ summary: 'Forward auth: 200 + X-Latchkey-* headers, 401, 403 or 429' })
  @ApiQuery({ name: 'permissions', required: false, type: String, description: 'Comma-separated permissions the key must hold' })
  @ApiQuery({ name: 'environment', required: false, enum: ['test', 'live'] })
  @ApiQuery({ name: 'cost', required: false, type: Number, description: 'What the check takes from the quota (default 1)' })
  @ApiResponse({
    status: 200,
    description: 'The key passes. No body: gateways read the status and these headers (POST /v1/verify gives the verdict).',
    headers: {
      'X-Latchkey-Org-Id': { description: 'The organisation the key belongs to', schema: { type: 'string' } },
      'X-Latchkey-Key-Id': { description: 'The key', schema: { type: 'string' } },
      'X-Latchkey-Environment': { description: 'test or live', schema: { type: 'string' } },
      'X-Latchkey-Owner-Id': {
        description: 'The owner_id of the key, percent-encoded as encodeURIComponent does; absent when the key has none',
        schema: { type: 'string' },
      },
      'RateLimit-Limit': { description: 'When the key has a rate limit', schema: { type: 'integer' } },
      'RateLimit-Remaining': { description: 'When the key has a rate limit', schema: { type: 'integer' } },
      'RateLimit-Reset': { description: 'Seconds until the window frees a request', schema: { type: 'integer' } },
    },
  })
  @ApiResponse({ status: 400, description: 'Invalid query (environment, cost)', type: ErrorResponseDto })
  @ApiResponse({
    status: 401,
    description: 'No, malformed, unknown, disabled, expired or revoked key (with WWW-Authenticate); or a missing x-internal-token',
    type: ErrorResponseDto,
  })
  @ApiResponse({ status: 403, description: 'A restriction, permission or signature refuses the request', type: ErrorResponseDto })
  @ApiResponse({ status: 429, description: 'Rate limit or quota (Retry-After)', type: ErrorResponseDto })
  @ApiResponse({
    status: 503,
    description: 'The key cannot be looked up at all (KEY_LOOKUP_UNAVAILABLE): fails closed',
    type: ErrorResponseDto,
  })
  async check(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    return send(reply, await this.handler.check(asFrontDoorRequest(request)));
  }
}

function asFrontDoorRequest(request: FastifyRequest): FrontDoorRequest {
  return {
    id: String(request.id),
    headers: request.headers,
    query: (request.query ?? {}) as FrontDoorRequest['query'],
    ip: request.ip,
    body: request.body,
  };
}

function send(reply: FastifyReply, answer: FrontDoorAnswer): unknown {
  void reply.status(answer.status).headers(answer.headers);
  return answer.body;
}
