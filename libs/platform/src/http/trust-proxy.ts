import proxyAddr from '@fastify/proxy-addr';

/** TRUST_PROXY as Fastify's `trustProxy` option takes it: `true`, `false`, or a list of addresses/CIDRs. */
export function parseTrustProxy(value: string): boolean | string[] {
  const normalized = value.trim().toLowerCase();
  if (normalized === 'true') return true;
  if (normalized === 'false' || normalized === '') return false;
  return value.split(',').map((item) => item.trim());
}

/** Which hops may set X-Forwarded-For, compiled the way Fastify compiles `trustProxy`. */
export type TrustProxyFn = (address: string, hop: number) => boolean;

export function compileTrustProxy(trustProxy: boolean | string[]): TrustProxyFn {
  if (trustProxy === true) return () => true;
  if (trustProxy === false) return () => false;
  return proxyAddr.compile(trustProxy);
}
