import Fastify, { FastifyRequest } from 'fastify';

import {
  browserSessionCookieOptions,
  clearBrowserSession,
  cookieSessionToken,
  csrfTokenFor,
  readCookie,
  setBrowserSession,
} from './browser-session';

describe('browser session cookies', () => {
  it('are Secure in production only, not on the plain http of development and test', () => {
    expect(browserSessionCookieOptions('production')).toEqual({ secure: true });
    expect(browserSessionCookieOptions('development')).toEqual({ secure: false });
    expect(browserSessionCookieOptions('test')).toEqual({ secure: false });
  });

  it('sets an HttpOnly, Secure, SameSite=Lax session cookie and a readable CSRF cookie, and clears both', async () => {
    const sut = Fastify();
    const expires = new Date('2030-01-02T03:04:05Z');
    sut.get('/in', async (_request, reply) => {
      setBrowserSession(reply, 'lks_example', expires, { secure: true });
      return 'ok';
    });
    sut.get('/out', async (_request, reply) => {
      clearBrowserSession(reply, { secure: true });
      return 'ok';
    });
    const set = (await sut.inject('/in')).headers['set-cookie'];
    expect(set).toEqual([
      '__Host-latchkey_session=lks_example; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; SameSite=Lax',
      `__Host-latchkey_csrf=${csrfTokenFor('lks_example')}; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; SameSite=Lax`,
    ]);
    const cleared = (await sut.inject('/out')).headers['set-cookie'] as string[];
    expect(cleared.map((line) => line.split(';')[0])).toEqual(['__Host-latchkey_session=', '__Host-latchkey_csrf=']);
    expect(cleared.every((line) => line.includes('Expires=Thu, 01 Jan 1970'))).toBe(true);
    await sut.close();
  });

  it('reads one cookie of a Cookie header', () => {
    expect(readCookie('a=1; latchkey_session=lks_x; b=2', 'latchkey_session')).toBe('lks_x');
    expect(readCookie('xlatchkey_session=lks_x', 'latchkey_session')).toBeUndefined();
    expect(readCookie(undefined, 'latchkey_session')).toBeUndefined();
  });

  it('derives a CSRF token per session that is not the stored hash of the token', () => {
    expect(csrfTokenFor('lks_a')).not.toBe(csrfTokenFor('lks_b'));
    expect(csrfTokenFor('lks_a')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads only the __Host- session cookie where cookies are Secure, so a planted plain-named pair counts for nothing', () => {
    const request = (cookie: string, method = 'GET') => ({ method, headers: { cookie } }) as unknown as FastifyRequest;
    const planted = `latchkey_session=lks_attacker; latchkey_csrf=${csrfTokenFor('lks_attacker')}`;
    expect(cookieSessionToken(request(planted), { secure: true })).toBeNull();
    expect(cookieSessionToken(request(`${planted}; __Host-latchkey_session=lks_victim`), { secure: true })).toBe('lks_victim');
    expect(cookieSessionToken(request(planted), { secure: false })).toBe('lks_attacker');
  });
});
