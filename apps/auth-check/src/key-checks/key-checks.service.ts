import { Injectable } from '@nestjs/common';

import { VerifyCode } from '@latchkey/contracts';
import { parseApiKey, ParsedApiKey } from '@latchkey/crypto';

import { andThen, MaybePromise } from '../front-door/maybe-promise';
import { CompiledKey } from '../key-records/compiled-key';
import { KeyLookupResult, KeyRecordsService } from '../key-records/key-records.service';
import { QuotaLedgerService } from '../quotas/quota-ledger.service';
import { RateLimiterService } from '../rate-limits/rate-limiter.service';
import { EMPTY_BODY_SHA256, RequestSignatureService } from '../signatures/request-signature.service';
import { UsageEventBuffer } from '../usage-events/usage-event-buffer.service';
import { endpointAllowed, hasPermissions, ipAllowed, referrerAllowed } from './key-rules';
import { CheckedKey, KeyCheck, KeyCheckInput, PassingVerdict, RefusedVerdict } from './key-verdict';

/**
 * The hot path: judges one presented key, the same way for POST /v1/verify,
 * GET /v1/check and `auth.verify`. Checks run cheapest first and the ones that
 * spend something (a signature's one use, a rate-limit unit, quota) last, so a
 * refused check never uses up quota. Authentication (status, signature) comes
 * before the restrictions, so only a holder of the key learns why it is refused.
 * A refusal names no key (see RefusedVerdict); the key it judged travels beside
 * the verdict in KeyCheck.key, for the usage event alone.
 *
 * A cached key without a signature, rate limit or quota is judged synchronously:
 * no promise at all between the request and its answer (see MaybePromise).
 *
 * A rolled key's old secret after its grace answers NOT_FOUND, not REVOKED: the key
 * service no longer finds it by that secret (and after a second roll nothing
 * remembers it), so NOT_FOUND is the one answer the cache, the key service and
 * the direct read can all give consistently. Over /v1/check both are a 401.
 */
@Injectable()
export class KeyChecksService {
  constructor(
    private readonly keys: KeyRecordsService,
    private readonly quotas: QuotaLedgerService,
    private readonly rateLimiter: RateLimiterService,
    private readonly signatures: RequestSignatureService,
    private readonly usage: UsageEventBuffer,
  ) {}

  /**
   * Every verdict emits one usage event. Fails (throws, or rejects when the lookup was async)
   * only when the key cannot be looked up at all: a 503, failing closed.
   */
  verify(input: KeyCheckInput): MaybePromise<KeyCheck> {
    const started = performance.now();
    const parsed = parseApiKey(input.key);
    if (!parsed) return this.recorded(input, null, refuse(VerifyCode.Malformed), started);
    const lookup = parsed.kind === 'pk' ? this.keys.byPublicKey(input.key) : this.keys.bySecret(input.key);
    const check = andThen(lookup, (found) => this.judge(found, parsed, input));
    return andThen(check, (judged) => this.recorded(input, parsed, judged, started));
  }

  private recorded(input: KeyCheckInput, parsed: ParsedApiKey | null, check: KeyCheck, started: number): KeyCheck {
    const { key } = check;
    this.usage.emit({
      key_id: key ? key.key_id : null,
      org_id: key ? key.org_id : null,
      environment: key ? key.environment : (parsed?.environment ?? null),
      code: check.verdict.code,
      ip: input.ip,
      method: input.method,
      path: input.path,
      latency_us: Math.round((performance.now() - started) * 1000),
    });
    return check;
  }

  /**
   * Who holds the key: found, (for a signing key) a valid signature, in force and the
   * right environment. A signing key's signature comes first: its `pk_` identifier is
   * public, so without one nobody learns more than INVALID_SIGNATURE — not that the
   * key is revoked, disabled, expired or of the other environment.
   */
  private judge(lookup: KeyLookupResult, parsed: ParsedApiKey, input: KeyCheckInput): MaybePromise<KeyCheck> {
    const { key, degraded } = lookup;
    if (!key) return refuse(VerifyCode.NotFound);
    const record = key.record;
    const now = Date.now();

    if (record.matched === 'previous' && !(record.previous_secret_expires_at && Date.parse(record.previous_secret_expires_at) > now)) {
      return refuse(VerifyCode.NotFound);
    }
    if (record.signing) {
      return this.signatureValid(key, parsed, input, now).then((valid) =>
        valid ? this.admit(key, degraded, input, now) : refuse(VerifyCode.InvalidSignature, key, degraded),
      );
    }
    return this.admit(key, degraded, input, now);
  }

  /** Whether the key is in force for this check, then what it may do. */
  private admit(key: CompiledKey, degraded: boolean, input: KeyCheckInput, now: number): MaybePromise<KeyCheck> {
    const record = key.record;
    if (record.revoked_at) return refuse(VerifyCode.Revoked, key, degraded);
    if (record.disabled_at) return refuse(VerifyCode.Disabled, key, degraded);
    if (record.expires_at && Date.parse(record.expires_at) <= now) return refuse(VerifyCode.Expired, key, degraded);
    if (input.environment && input.environment !== record.environment) return refuse(VerifyCode.WrongEnvironment, key, degraded);
    return this.authorize(key, degraded, input, now);
  }

  /** What the key may do: its restrictions and permissions, then what the check spends. */
  private authorize(key: CompiledKey, degraded: boolean, input: KeyCheckInput, now: number): MaybePromise<KeyCheck> {
    const record = key.record;
    if (!ipAllowed(key, input.ip)) return refuse(VerifyCode.IpNotAllowed, key, degraded);
    if (!referrerAllowed(key, input.referrer)) return refuse(VerifyCode.ReferrerNotAllowed, key, degraded);
    if (!endpointAllowed(key, input.method, input.path)) return refuse(VerifyCode.EndpointNotAllowed, key, degraded);
    if (!hasPermissions(record.permissions, input.permissions)) return refuse(VerifyCode.InsufficientPermissions, key, degraded);

    const verdict: PassingVerdict = {
      valid: true,
      code: VerifyCode.Valid,
      key_id: record.id,
      name: record.name,
      owner_id: record.owner_id,
      org_id: record.org_id,
      environment: record.environment,
      permissions: record.permissions,
      metadata: record.metadata,
      rate_limit: null,
      quota: null,
    };
    if (degraded) verdict.degraded = true;
    const checked = checkedKey(key);
    if (!record.rate_limit && !record.quota) return { verdict, key: checked, retryAfterSeconds: null };
    return this.spend(key, checked, verdict, input, now);
  }

  /** The rate limit (which counts requests), then the quota (which `cost` pays): both in Redis. */
  private async spend(
    key: CompiledKey,
    checked: CheckedKey,
    verdict: PassingVerdict,
    input: KeyCheckInput,
    now: number,
  ): Promise<KeyCheck> {
    const record = key.record;
    if (record.rate_limit) {
      const outcome = await this.rateLimiter.consume(record.id, record.rate_limit);
      // While Redis is away the window is unknown: no numbers (and so no RateLimit-* headers) rather than made-up ones.
      if (outcome.degraded) verdict.degraded = true;
      else verdict.rate_limit = { limit: outcome.limit, remaining: outcome.remaining, reset_at: outcome.resetAt.toISOString() };
      if (!outcome.allowed) {
        return {
          verdict: limited(verdict, VerifyCode.RateLimited),
          key: checked,
          retryAfterSeconds: Math.max(1, outcome.retryAfterSeconds),
        };
      }
    }
    if (record.quota) {
      const outcome = await this.quotas.consume(record.id, record.quota, input.cost);
      const periodEnd = quotaPeriodEnd(record.quota.period, now);
      // While Redis is away the ledger reports 0 left (quota-ledger.service.ts) and the verdict no reset time.
      verdict.quota = {
        remaining: outcome.remaining,
        reset_at: outcome.degraded || periodEnd === null ? null : new Date(periodEnd).toISOString(),
      };
      if (outcome.degraded) verdict.degraded = true;
      if (!outcome.allowed) {
        return {
          verdict: limited(verdict, VerifyCode.QuotaExceeded),
          key: checked,
          retryAfterSeconds: periodEnd === null ? null : Math.max(1, Math.ceil((periodEnd - now) / 1000)),
        };
      }
    }
    return { verdict, key: checked, retryAfterSeconds: null };
  }

  /**
   * A signing key passes only as its public key with a valid, fresh, unused
   * signature. Its `sk_` secret presented directly is refused: it is the HMAC key,
   * and sending it over the wire is exactly what signing avoids.
   */
  private async signatureValid(key: CompiledKey, parsed: ParsedApiKey, input: KeyCheckInput, now: number): Promise<boolean> {
    if (parsed.kind !== 'pk' || !input.signatureHeader || !input.method || !input.path) return false;
    const secrets: string[] = [];
    if (key.signingSecret) secrets.push(key.signingSecret);
    const graceEnds = key.record.previous_secret_expires_at ? Date.parse(key.record.previous_secret_expires_at) : 0;
    if (key.previousSigningSecret && graceEnds > now) secrets.push(key.previousSigningSecret);
    return this.signatures.verify({
      keyId: key.record.id,
      secrets,
      header: input.signatureHeader,
      method: input.method,
      path: input.path,
      bodySha256: input.bodySha256 ?? EMPTY_BODY_SHA256,
    });
  }
}

function checkedKey(key: CompiledKey): CheckedKey {
  return { key_id: key.record.id, org_id: key.record.org_id, environment: key.record.environment };
}

/** A refusal before anything was spent: only its code (and whether a fallback answered). */
function refuse(code: RefusedVerdict['code'], key: CompiledKey | null = null, degraded = false): KeyCheck {
  const verdict: RefusedVerdict = { valid: false, code };
  if (degraded) verdict.degraded = true;
  return { verdict, key: key ? checkedKey(key) : null, retryAfterSeconds: null };
}

/** A refusal by a limit: the code and the limits' state, which is what the caller ran into; nothing of the key. */
function limited(passed: PassingVerdict, code: typeof VerifyCode.RateLimited | typeof VerifyCode.QuotaExceeded): RefusedVerdict {
  const verdict: RefusedVerdict = { valid: false, code, rate_limit: passed.rate_limit, quota: passed.quota };
  if (passed.degraded) verdict.degraded = true;
  return verdict;
}

/** When a day or month quota refills (UTC, epoch ms); null for a total quota, which never does. */
function quotaPeriodEnd(period: 'day' | 'month' | 'total', now: number): number | null {
  const at = new Date(now);
  if (period === 'day') return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
  if (period === 'month') return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return null;
}
