import { FastifyRequest } from 'fastify';

import { Role } from '@latchkey/contracts';

/** Who is calling, as established by the access guard. */
export type Principal = { kind: 'user'; userId: string; orgId: string; role: Role; sessionId: string } | { kind: 'platform' };

export type RequestWithPrincipal = FastifyRequest & { principal?: Principal };
