import { EntityManager } from '@mikro-orm/postgresql';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';

import { AppConfig } from '@latchkey/config';
import { hmacSha256Hex, SecretBox, sha256Hex } from '@latchkey/crypto';

import { AppError } from '../errors';
import { RequestWithPrincipal } from '../http/principal';

const HEADER = 'idempotency-key';

/** What a retry is checked against: the first request's hash and, once it finished, its sealed answer. */
interface FirstAttempt {
  requestHash: string;
  responseStatus: number | null;
  responseSealed: string | null;
}
const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Stripe's `Idempotency-Key` for every POST: the first successful answer is kept
 * for 24 h per organisation (or caller) and key and replayed for a retry; the same
 * key with another body is a 409, and so is a retry while the first is still running.
 * A failed first attempt keeps nothing, so the client may retry it with the same key.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly box: SecretBox;
  private readonly hashSecret: string;

  constructor(
    private readonly em: EntityManager,
    config: AppConfig,
  ) {
    this.box = new SecretBox(config.get('ENCRYPTION_KEY'));
    this.hashSecret = config.get('KEY_HASH_SECRET');
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const key = request.headers[HEADER];
    if (request.method !== 'POST' || key === undefined) return next.handle();
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      return throwError(() =>
        AppError.validation('Idempotency-Key must be 1 to 255 characters.', [{ field: HEADER, message: 'must be 1 to 255 characters' }]),
      );
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const scope = scopeOf(request);
    // Keyed (a login body holds a password: a plain hash of it would be a cheap
    // offline target) and bound to the caller, so another member of the org reusing
    // the key gets a 409 instead of a replay of an answer they may not see.
    const requestHash = hmacSha256Hex(
      this.hashSecret,
      `${callerOf(request)}\n${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`,
    );
    const sealContext = `${scope}\n${key}`;

    return from(this.claim(scope, key, requestHash)).pipe(
      mergeMap((existing) => {
        if (existing) {
          if (existing.requestHash !== requestHash) {
            throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.');
          }
          if (existing.responseStatus === null || existing.responseSealed === null) {
            throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still in progress.');
          }
          void reply.status(existing.responseStatus).header('idempotent-replayed', 'true');
          return of(JSON.parse(this.box.open(existing.responseSealed, sealContext)) as unknown);
        }
        // Release only when the handler failed: if it succeeded but storing its
        // answer fails, the record stays in progress, so a retry gets a 409 rather
        // than repeating a change that already happened.
        return next.handle().pipe(
          catchError((error: unknown) => from(this.release(scope, key)).pipe(mergeMap(() => throwError(() => error)))),
          mergeMap(async (body: unknown) => {
            await this.complete(scope, key, reply.statusCode, this.box.seal(JSON.stringify(body ?? null), sealContext));
            return body;
          }),
        );
      }),
    );
  }

  /** Inserts an in-progress record; returns the earlier one when this key was seen within 24 h. */
  private async claim(scope: string, key: string, requestHash: string): Promise<FirstAttempt | null> {
    const connection = this.em.getConnection();
    await connection.execute('delete from idempotency_records where scope = ? and key = ? and expires_at < now()', [scope, key]);
    const inserted = await connection.execute<{ scope: string }[]>(
      `insert into idempotency_records (scope, key, request_hash, created_at, expires_at)
       values (?, ?, ?, now(), ?) on conflict (scope, key) do nothing returning scope`,
      [scope, key, requestHash, new Date(Date.now() + TTL_MS)],
    );
    if (inserted.length > 0) return null;
    const rows = await connection.execute<{ request_hash: string; response_status: number | null; response_sealed: string | null }[]>(
      'select request_hash, response_status, response_sealed from idempotency_records where scope = ? and key = ?',
      [scope, key],
    );
    const row = rows[0];
    if (!row) return null;
    return { requestHash: row.request_hash, responseStatus: row.response_status, responseSealed: row.response_sealed };
  }

  private async complete(scope: string, key: string, status: number, sealed: string): Promise<void> {
    await this.em
      .getConnection()
      .execute('update idempotency_records set response_status = ?, response_sealed = ? where scope = ? and key = ?', [
        status,
        sealed,
        scope,
        key,
      ]);
  }

  private async release(scope: string, key: string): Promise<void> {
    await this.em
      .getConnection()
      .execute('delete from idempotency_records where scope = ? and key = ? and response_status is null', [scope, key])
      .catch(() => undefined);
  }
}

function callerOf(request: RequestWithPrincipal): string {
  const principal = request.principal;
  if (principal?.kind === 'user') return principal.userId;
  if (principal?.kind === 'management_key') return principal.keyId;
  return principal?.kind ?? 'anonymous';
}

/** Keys are per organisation for sessions; per credential for other callers; per address for anonymous ones. */
function scopeOf(request: RequestWithPrincipal): string {
  const principal = request.principal;
  if (principal?.kind === 'user' || principal?.kind === 'management_key') return `org:${principal.orgId}`;
  if (principal?.kind === 'platform') return 'platform';
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') return `auth:${sha256Hex(authorization)}`;
  return `ip:${request.ip}`;
}
