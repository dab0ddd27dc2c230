import { FastifyReply, FastifyRequest } from 'fastify';

import { constantTimeEquals, sha256Hex } from '@latchkey/crypto';
import { AppError } from '@latchkey/platform';

import { SESSION_TOKEN_PREFIX } from './session-token';

/**
 * The web console's session: the same session token a Bearer client gets, carried in an
 * HttpOnly cookie so page scripts never see it (docs/console.md#cookie-and-csrf).
 */
export const SESSION_COOKIE = 'latchkey_session';
/** Readable by the console's scripts, which echo it in X-CSRF-Token on every write. */
export const CSRF_COOKIE = 'latchkey_csrf';
/**
 * Where cookies are Secure they carry the `__Host-` prefix: a browser then takes them only
 * from this very host, with Path=/ and no Domain, so a sibling subdomain cannot plant a
 * session and CSRF pair of its own (cookie tossing) that this host would read first.
 */
const HOST_ONLY_PREFIX = '__Host-';
export const CSRF_HEADER = 'x-csrf-token';
/** Sent as `cookie` on login or signup by a client that wants the session as the cookie alone. */
export const COOKIE_ONLY_HEADER = 'x-latchkey-session';

/** Whether a login or signup asked for the session as the cookie alone, with no token in the body. */
export function wantsCookieOnly(request: FastifyRequest): boolean {
  return request.headers[COOKIE_ONLY_HEADER] === 'cookie';
}

/** Methods that change nothing; every other method is a write and needs the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BrowserSessionCookieOptions {
  /** Secure everywhere but development and test, which run on plain http://localhost. */
  secure: boolean;
}

/** The cookie's name as set and read: `__Host-` prefixed wherever the cookies are Secure. */
export function browserCookieName(name: typeof SESSION_COOKIE | typeof CSRF_COOKIE, options: BrowserSessionCookieOptions): string {
  return options.secure ? HOST_ONLY_PREFIX + name : name;
}

/** Secure everywhere but development and test, whose plain http://localhost would never get a Secure cookie back. */
export function browserSessionCookieOptions(nodeEnv: string): BrowserSessionCookieOptions {
  return { secure: nodeEnv !== 'development' && nodeEnv !== 'test' };
}

/**
 * The CSRF token of a session: derived from its token, so it needs no storage and dies with
 * the session, and a token taken from one session is worth nothing on another. (A whole
 * planted pair is what the `__Host-` names keep out.) The prefix keeps it unlike the
 * stored sha256 of the token.
 */
export function csrfTokenFor(sessionToken: string): string {
  return sha256Hex(`latchkey-csrf:${sessionToken}`);
}

interface CookieAttributes {
  httpOnly: boolean;
  secure: boolean;
  expires: Date;
}

/**
 * One Set-Cookie line. Written here rather than by @fastify/cookie, whose 11.x loads the
 * ESM `cookie` package with a dynamic import that Jest's CommonJS runtime refuses; the
 * values are hex and `lks_` tokens, so nothing needs encoding.
 */
function setCookieLine(name: string, value: string, attributes: CookieAttributes): string {
  // Lax, not Strict: a person following an emailed link (verify, invitation) arrives signed in.
  const parts = [`${name}=${value}`, 'Path=/', `Expires=${attributes.expires.toUTCString()}`];
  if (attributes.httpOnly) parts.push('HttpOnly');
  if (attributes.secure) parts.push('Secure');
  parts.push('SameSite=Lax');
  return parts.join('; ');
}

function addSetCookies(reply: FastifyReply, lines: string[]): void {
  const existing = reply.getHeader('set-cookie');
  const previous = Array.isArray(existing) ? existing : typeof existing === 'string' ? [existing] : [];
  void reply.header('set-cookie', [...previous, ...lines]);
}

/** Sets both cookies after a login or signup; they expire with the session. */
export function setBrowserSession(reply: FastifyReply, sessionToken: string, expiresAt: Date, options: BrowserSessionCookieOptions): void {
  addSetCookies(reply, [
    setCookieLine(browserCookieName(SESSION_COOKIE, options), sessionToken, { httpOnly: true, secure: options.secure, expires: expiresAt }),
    setCookieLine(browserCookieName(CSRF_COOKIE, options), csrfTokenFor(sessionToken), {
      httpOnly: false,
      secure: options.secure,
      expires: expiresAt,
    }),
  ]);
}

/** Clears both cookies (logout), with the attributes they were set with so browsers match them. */
export function clearBrowserSession(reply: FastifyReply, options: BrowserSessionCookieOptions): void {
  const expires = new Date(0);
  addSetCookies(reply, [
    setCookieLine(browserCookieName(SESSION_COOKIE, options), '', { httpOnly: true, secure: options.secure, expires }),
    setCookieLine(browserCookieName(CSRF_COOKIE, options), '', { httpOnly: false, secure: options.secure, expires }),
  ]);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * The session token of a request that sent no Authorization header but the session
 * cookie, or null. A write authenticated this way must carry the session's CSRF token in
 * X-CSRF-Token: a cross-site page can make the browser send the cookie, never read the
 * token. A Bearer request needs no CSRF token, as no browser attaches one on its own.
 */
export function cookieSessionToken(request: FastifyRequest, options: BrowserSessionCookieOptions): string | null {
  // Only the name this deployment sets: where cookies are `__Host-`, a plain-named one was planted.
  const token = readCookie(request.headers.cookie, browserCookieName(SESSION_COOKIE, options));
  if (!token || !token.startsWith(SESSION_TOKEN_PREFIX)) return null;
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !constantTimeEquals(sent, csrfTokenFor(token))) {
      throw new AppError(
        'CSRF_TOKEN_INVALID',
        `A write signed in by cookie needs the ${browserCookieName(CSRF_COOKIE, options)} cookie's value in the X-CSRF-Token header; Bearer clients need none.`,
      );
    }
  }
  return token;
}
