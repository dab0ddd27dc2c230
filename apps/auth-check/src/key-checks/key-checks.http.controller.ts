import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FastifyReply, FastifyRequest } from 'fastify';

import { ApiEnvelope, FrontDoorAnswer, FrontDoorRequest, Public, RawResponse } from '@latchkey/platform';

import { KeyVerdictResponseDto } from './dto/key-verdict-response.dto';
import { KeyChecksHttpHandler } from './key-checks.http.handler';
import { VERIFY_KEY_REQUEST_SCHEMA } from './verify-key.schema';

/**
 * The HTTP routes of the checks, as documented. In a running process the front door
 * (KeyChecksFrontDoor) answers them before Fastify; what still reaches these methods
 * (HEAD, in-process injection) goes through the same KeyChecksHttpHandler, so the
 * answers cannot differ.
 */
@ApiTags('auth-check')
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
  @ApiBody({ schema: VERIFY_KEY_REQUEST_SCHEMA as unknown as SchemaObject })
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
  @ApiQuery({ name: 'permissions', required: false, description: 'Comma-separated permissions the key must hold' })
  @ApiQuery({ name: 'environment', required: false, enum: ['test', 'live'] })
  @ApiQuery({ name: 'cost', required: false, type: Number, description: 'What the check takes from the quota (default 1)' })
  @ApiEnvelope(KeyVerdictResponseDto)
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
