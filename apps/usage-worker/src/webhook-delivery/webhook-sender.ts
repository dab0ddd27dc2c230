import http, { IncomingMessage } from 'node:http';
import https from 'node:https';

import ipaddr from 'ipaddr.js';

import { guardedLookup, isPublicAddress, RefusedTargetError } from './webhook-target';

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
}

/**
 * POSTs one signed message. Never throws: every outcome (status, refusal, timeout,
 * connection error) comes back as a SendResult for the attempt log. Redirects are
 * not followed (a 3xx is a failure), the whole exchange has one deadline, and at
 * most 1 KiB of the body is read before the connection is dropped.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string): SendResult => ({
    statusCode: null,
    durationMs: elapsed(),
    responseBody: null,
    error,
    retryAfterMs: null,
  });

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(failure('invalid URL'));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.resolve(failure(`unsupported scheme ${target.protocol}`));
  if (options.requireHttps && target.protocol !== 'https:') {
    return Promise.resolve(failure('refused: webhook targets must use https in production'));
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateTargets && ipaddr.isValid(host) && !isPublicAddress(host)) {
    return Promise.resolve(failure(`${host} is not a public address`));
  }

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const transport = target.protocol === 'https:' ? https : http;
    const request = transport.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      lookup: options.allowPrivateTargets ? undefined : guardedLookup,
    });
    const timer = setTimeout(() => finish(failure(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      const message = error instanceof RefusedTargetError ? error.message : `${error.code ?? 'error'}: ${error.message}`;
      finish(failure(message));
    });
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          statusCode: response.statusCode ?? null,
          durationMs: elapsed(),
          responseBody: cleanBody(Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT)),
          error: null,
          retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_BODY_LIMIT) done();
      });
      response.on('end', done);
      response.on('error', done);
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
