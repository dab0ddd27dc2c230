import { Injectable, OnModuleInit } from '@nestjs/common';

import { FrontDoor } from '../front-door/front-door';
import { KeyChecksHttpHandler } from './key-checks.http.handler';

/**
 * Puts the two check routes on the HTTP server's front door, so they are answered
 * before Fastify and Nest (see FrontDoor for why and what that keeps). The routes
 * stay declared on KeyChecksHttpController for the API documentation and for what
 * the front door does not match.
 */
@Injectable()
export class KeyChecksFrontDoor implements OnModuleInit {
  constructor(
    private readonly frontDoor: FrontDoor,
    private readonly handler: KeyChecksHttpHandler,
  ) {}

  onModuleInit(): void {
    this.frontDoor.register({ method: 'POST', path: '/v1/verify', handle: (request) => this.handler.verify(request) });
    this.frontDoor.register({ method: 'GET', path: '/v1/check', handle: (request) => this.handler.check(request) });
  }
}
