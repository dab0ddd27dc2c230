import http, { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import ipaddr from 'ipaddr.js';

import { guardedLookup, isPublicAddress, RefusedTargetError, refuseTarget } from './webhook-target';

/** How much of a response body is read and kept for the delivery log. */
export const RESPONSE_BODY_LIMIT = 1024;

export interface SendResult {
  statusCode: number | null;
  durationMs: number;
  /** The first 1 KiB of the response body. */
  responseBody: string | null;
  error: string | null;
  /** From Retry-After, when the subscriber sent one. */
  retryAfterMs: number | null;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Production: only https targets (an http one, however it got stored, is refused before any connection). */
  requireHttps?: boolean;
  /**
   * The endpoint's keep-alive agent (EndpointAgents). A connection it opens is checked
   * like a one-off one; a connection it reuses was checked when it opened. Without an
   * agent, the send uses a connection of its own.
   */
  agent?: http.Agent;
  /**
   * Resolves and judges the host of every new connection (DNS rebinding): guardedLookup
   * unless given (tests pass one over a resolver they control); none when private targets
   * are allowed. A reused keep-alive socket was judged when it opened.
   */
  lookup?: LookupFunction;
}

/** The failure of a send on a kept-alive socket the subscriber had closed: worth one more try on a fresh one. */
const STALE_SOCKET = Symbol('stale socket');

/**
 * POSTs one signed message. Never throws: every outcome (status, refusal, timeout,
 * connection error) comes back as a SendResult for the attempt log. Redirects are
 * not followed (a 3xx is a failure), the whole exchange has one deadline, and at
 * most 1 KiB of the body is read before the connection is dropped. A read to the
 * end leaves the connection to the agent for the next delivery.
 */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const failure = (error: string) => failed(started, error);

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return failure('invalid URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return failure(`unsupported scheme ${target.protocol}`);
  if (options.requireHttps && target.protocol !== 'https:') {
    return failure('refused: webhook targets must use https in production');
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // net.connect skips `lookup` for an IP literal, so literals are judged here.
  if (!options.allowPrivateTargets && ipaddr.isValid(host) && !isPublicAddress(host)) {
    return failure(refuseTarget(host, host, 'is not a public address').message);
  }

  const first = await sendOnce(target, headers, body, options, started);
  if (first !== STALE_SOCKET) return first;
  // A keep-alive race (Node's HTTP client docs): the subscriber closed the idle socket as
  // we wrote to it, before any answer. Nothing was processed; one retry on a connection of
  // its own (the agent could hand out another stale one), still checked by the lookup.
  const second = await sendOnce(target, headers, body, { ...options, agent: undefined }, started);
  return second === STALE_SOCKET ? failure('ECONNRESET: the connection was closed before an answer') : second;
}

function sendOnce(
  target: URL,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
  started: number,
): Promise<SendResult | typeof STALE_SOCKET> {
  const deadline = started + options.timeoutMs;
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string) => failed(started, error);

  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    /** `keepSocket`: the response was read to its end, so the agent may reuse the connection. */
    const finish = (result: SendResult | typeof STALE_SOCKET, keepSocket = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!keepSocket) request.destroy();
      resolve(result);
    };
    const transport = target.protocol === 'https:' ? https : http;
    const request = transport.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: options.agent ?? false,
      // Node passes it to every connection this request opens, the agent's included.
      lookup: options.allowPrivateTargets ? undefined : (options.lookup ?? guardedLookup),
    });
    const timer = setTimeout(() => finish(failure(`timed out after ${options.timeoutMs} ms`)), Math.max(0, deadline - performance.now()));
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        finish(STALE_SOCKET);
        return;
      }
      const message = error instanceof RefusedTargetError ? error.message : `${error.code ?? 'error'}: ${error.message}`;
      finish(failure(message));
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (keepSocket: boolean) =>
        finish(
          {
            statusCode: response.statusCode ?? null,
            durationMs: elapsed(),
            responseBody: cleanBody(Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT)),
            error: null,
            retryAfterMs: parseRetryAfter(response.headers['retry-after']),
          },
          keepSocket,
        );
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // The rest is not read: the connection is dropped rather than drained (a body can be endless).
        if (size >= RESPONSE_BODY_LIMIT) done(false);
      });
      response.on('end', () => done(true));
      response.on('error', () => done(false));
    });
    request.end(body);
  });
}

/** Text for a varchar(1024) column: valid UTF-8, no NUL (Postgres refuses it), at most 1024 characters. */
function cleanBody(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  return bytes.toString('utf8').replaceAll('\u0000', '').slice(0, RESPONSE_BODY_LIMIT);
}

/** Retry-After as delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/** An attempt that got no HTTP answer, timed from `started`. */
function failed(started: number, error: string): SendResult {
  return { statusCode: null, durationMs: Math.round(performance.now() - started), responseBody: null, error, retryAfterMs: null };
}
