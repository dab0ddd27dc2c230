import { FastifyRequest } from 'fastify';

/** The caller's address as Fastify resolved it (honouring X-Forwarded-For only from trusted proxies). */
export function clientIp(request: FastifyRequest): string {
  return request.ip;
}

export function userAgent(request: FastifyRequest): string | null {
  const value = request.headers['user-agent'];
  return typeof value === 'string' ? value.slice(0, 512) : null;
}
