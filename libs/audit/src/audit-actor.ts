import { FastifyRequest } from 'fastify';

import { ActorType } from '@latchkey/db';
import { clientIp, Principal, userAgent } from '@latchkey/platform';

/** Who made a change and from where; built once per request and passed to services. */
export interface AuditActor {
  type: ActorType;
  id: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function actorFromRequest(request: FastifyRequest & { principal?: Principal }): AuditActor {
  const principal = request.principal;
  const base = { ip: clientIp(request), userAgent: userAgent(request) };
  if (principal?.kind === 'user') return { type: ActorType.User, id: principal.userId, ...base };
  if (principal?.kind === 'management_key') return { type: ActorType.ManagementKey, id: principal.keyId, ...base };
  if (principal?.kind === 'platform') return { type: ActorType.Platform, id: null, ...base };
  return { type: ActorType.System, id: null, ...base };
}
