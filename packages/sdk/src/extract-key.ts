import { presentedApiKey } from '@latchkey/crypto';

/**
 * The key a request presents, in any of the three forms Latchkey accepts: `x-api-key:
 * KEY`, `Authorization: Bearer KEY` or `Authorization: x-api-key KEY`; '' when there is
 * none (verify answers MALFORMED for it, offline). Takes lower-case header objects (Node,
 * Express, Fastify) or a Fetch Headers.
 */
export function extractKey(headers: Record<string, string | readonly string[] | undefined> | { get(name: string): string | null }): string {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const fetchHeaders = headers as { get(name: string): string | null };
    return presentedApiKey({
      'x-api-key': fetchHeaders.get('x-api-key') ?? undefined,
      authorization: fetchHeaders.get('authorization') ?? undefined,
    });
  }
  return presentedApiKey(headers as Record<string, string | readonly string[] | undefined>);
}
