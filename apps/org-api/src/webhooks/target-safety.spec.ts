import { checkWebhookTarget, NOT_PUBLIC_REASON, ResolveHost, TargetSafetyOptions } from './target-safety';

/** A resolver that answers from a table, as DNS would, without the network. */
function fakeResolver(table: Record<string, string[]>): ResolveHost {
  return (hostname) => {
    const addresses = table[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

const DNS = fakeResolver({
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c6:1946'],
  localhost: ['127.0.0.1', '::1'],
  'rebind.example.com': ['93.184.216.34', '10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  // glibc prints an AAAA answer of ::7f00:1 as "::127.0.0.1".
  'compat.example.com': ['93.184.216.34', '::127.0.0.1'],
  'compat-hex.example.com': ['::a00:1'],
  'empty.example.com': [],
});

const strict: TargetSafetyOptions = { requireHttps: false, allowPrivateTargets: false, resolve: DNS };

describe(checkWebhookTarget.name, () => {
  it('allows a public https host and answers the normalised URL', async () => {
    await expect(checkWebhookTarget('https://HOOKS.example.com/in?x=1', strict)).resolves.toEqual({
      allowed: true,
      url: 'https://hooks.example.com/in?x=1',
    });
  });

  it('allows http outside production and refuses it in production', async () => {
    await expect(checkWebhookTarget('http://hooks.example.com/in', strict)).resolves.toMatchObject({ allowed: true });
    await expect(checkWebhookTarget('http://hooks.example.com/in', { ...strict, requireHttps: true })).resolves.toEqual({
      allowed: false,
      reason: 'url must use https',
    });
    await expect(checkWebhookTarget('https://hooks.example.com/in', { ...strict, requireHttps: true })).resolves.toMatchObject({
      allowed: true,
    });
  });

  it.each([
    'not a url',
    '/relative/path',
    'ftp://hooks.example.com/x',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'ws://hooks.example.com',
  ])('refuses %p as not an http(s) URL', async (url) => {
    await expect(checkWebhookTarget(url, strict)).resolves.toMatchObject({ allowed: false });
  });

  it('refuses credentials in the URL, even when private targets are allowed', async () => {
    for (const url of ['https://user:pass@hooks.example.com/', 'https://user@hooks.example.com/']) {
      await expect(checkWebhookTarget(url, { ...strict, allowPrivateTargets: true })).resolves.toEqual({
        allowed: false,
        reason: 'url must not contain credentials',
      });
    }
  });

  it('refuses a URL longer than 2048 characters', async () => {
    await expect(checkWebhookTarget(`https://hooks.example.com/${'a'.repeat(2048)}`, strict)).resolves.toMatchObject({ allowed: false });
  });

  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.1.2.3:8080/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'carrierGradeNat'],
    ['http://169.254.1.1/', 'linkLocal'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[fc00::1]/', 'uniqueLocal'],
    ['http://[fd00:ec2::254]/', 'cloud metadata'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://[64:ff9b::a00:1]/', 'rfc6052'],
    ['http://[2002:7f00:1::]/', '6to4'],
    ['http://[::127.0.0.1]/', 'IPv4-compatible'],
    ['http://[::7f00:1]/', 'IPv4-compatible'],
    ['http://[::a00:1]/', 'IPv4-compatible'],
    ['http://[0:0:0:0:0:0:a9fe:a9fe]/', 'IPv4-compatible'],
    ['http://[::8.8.8.8]/', 'IPv4-compatible'],
  ])('refuses %s (%s), telling the tenant only that the host is not public', async (url, kind) => {
    const verdict = await checkWebhookTarget(url, strict);
    expect(verdict).toMatchObject({ allowed: false, reason: NOT_PUBLIC_REASON, logDetail: { problem: expect.stringContaining(kind) } });
  });

  it('refuses a host that resolves to a loopback address, naming the address only in the log detail', async () => {
    await expect(checkWebhookTarget('http://localhost:3000/hook', strict)).resolves.toEqual({
      allowed: false,
      reason: NOT_PUBLIC_REASON,
      logDetail: { host: 'localhost', address: '127.0.0.1', problem: 'points at a loopback address' },
    });
  });

  it('refuses a host when any one of its addresses is private', async () => {
    await expect(checkWebhookTarget('https://rebind.example.com/', strict)).resolves.toMatchObject({
      allowed: false,
      reason: NOT_PUBLIC_REASON,
      logDetail: { address: '10.1.2.3' },
    });
    await expect(checkWebhookTarget('https://metadata.example.com/', strict)).resolves.toMatchObject({
      allowed: false,
      logDetail: { problem: expect.stringContaining('cloud metadata') },
    });
  });

  it('refuses a host that resolves to an IPv4-compatible IPv6 address, however the resolver prints it', async () => {
    for (const url of ['https://compat.example.com/', 'https://compat-hex.example.com/']) {
      await expect(checkWebhookTarget(url, strict)).resolves.toMatchObject({
        allowed: false,
        reason: NOT_PUBLIC_REASON,
        logDetail: { problem: 'points at an IPv4-compatible IPv6 address' },
      });
    }
  });

  it('refuses a host that does not resolve, or resolves to nothing, with the same answer as a private one', async () => {
    for (const url of ['https://nowhere.invalid/', 'https://empty.example.com/']) {
      const verdict = await checkWebhookTarget(url, strict);
      expect(verdict).toMatchObject({ allowed: false, reason: NOT_PUBLIC_REASON, logDetail: { host: new URL(url).hostname } });
    }
  });

  it('never puts the host or an address in the reason the tenant reads', async () => {
    for (const url of ['http://localhost/hook', 'https://rebind.example.com/', 'https://compat.example.com/', 'http://10.0.0.1/']) {
      const verdict = await checkWebhookTarget(url, strict);
      expect(verdict.allowed ? '' : verdict.reason).toBe(NOT_PUBLIC_REASON);
    }
  });

  it('refuses when the resolver hangs past its deadline', async () => {
    const hanging: ResolveHost = () => new Promise(() => undefined);
    await expect(
      checkWebhookTarget('https://slow.example.com/', { ...strict, resolve: hanging, resolveTimeoutMs: 20 }),
    ).resolves.toMatchObject({
      allowed: false,
    });
  });

  it('allows private targets without resolving them when configured to', async () => {
    const neverCalled: ResolveHost = () => Promise.reject(new Error('must not resolve'));
    for (const url of ['http://127.0.0.1:4000/hook', 'http://localhost/hook', 'http://[::1]/', 'http://169.254.169.254/']) {
      await expect(
        checkWebhookTarget(url, { requireHttps: false, allowPrivateTargets: true, resolve: neverCalled }),
      ).resolves.toMatchObject({
        allowed: true,
      });
    }
  });
});
