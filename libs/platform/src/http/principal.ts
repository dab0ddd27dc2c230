import { FastifyRequest } from 'fastify';

import { Role } from '@latchkey/contracts';

/** Who is calling, as established by the access guard. */
export type Principal =
  | { kind: 'user'; userId: string; orgId: string; role: Role; sessionId: string }
  /** A management key standing in for a session of its role; `environment` narrows it to one environment's keys. */
  | { kind: 'management_key'; keyId: string; orgId: string; role: Role; environment: 'test' | 'live' | null }
  | { kind: 'platform' };

export type RequestWithPrincipal = FastifyRequest & { principal?: Principal };
