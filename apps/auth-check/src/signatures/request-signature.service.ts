import { Injectable, Logger } from '@nestjs/common';

import {
  constantTimeEquals,
  hmacSha256Hex,
  isSignatureTimely,
  parseSignatureHeader,
  replayGuardExpiresAt,
  sha256Hex,
  signaturePayload,
} from '@latchkey/crypto';
import { isRedisAway, RedisService, withDeadline } from '@latchkey/platform';

export {
  EMPTY_BODY_SHA256,
  REPLAY_GUARD_MARGIN_SECONDS,
  sha256Hex,
  SIGNATURE_MAX_FUTURE_SECONDS,
  SIGNATURE_TOLERANCE_SECONDS,
  signRequest,
} from '@latchkey/crypto';

export interface VerifySignatureInput {
  keyId: string;
  /** The key's current secret and, during a roll's grace period, the previous one. */
  secrets: string[];
  /** The `x-signature` header as received. */
  header: string | undefined;
  method: string;
  /** Path with its query string. */
  path: string;
  /** Hex SHA-256 of the raw body; EMPTY_BODY_SHA256 when there is none. */
  bodySha256: string;
}

export const REPLAY_GUARD_DEADLINE_MS = 250;

/**
 * Checks signed requests (docs/api-conventions.md#checks): HMAC-SHA256 over time, method, path and
 * body hash, dated at most 5 minutes back and 1 minute ahead, compared in constant time against
 * every secret the key holds, and each signed request accepted once. Never throws; Redis away means
 * no replay guard, so the answer is false (fail closed).
 */
@Injectable()
export class RequestSignatureService {
  private readonly logger = new Logger(RequestSignatureService.name);
  private lastWarnAt = 0;

  constructor(private readonly redis: RedisService) {}

  async verify(input: VerifySignatureInput): Promise<boolean> {
    const parsed = parseSignatureHeader(input.header);
    if (!parsed || input.secrets.length === 0) return false;
    if (!isSignatureTimely(parsed.timestamp, Math.floor(Date.now() / 1_000))) return false;

    const payload = signaturePayload({ timestamp: parsed.timestamp, method: input.method, path: input.path, bodySha256: input.bodySha256 });
    // Every pair is compared, whichever matches first, so the time taken says nothing about which.
    let matched = false;
    for (const secret of input.secrets) {
      const expected = hmacSha256Hex(secret, payload);
      for (const signature of parsed.signatures) {
        if (constantTimeEquals(expected, signature)) matched = true;
      }
    }
    if (!matched) return false;
    return this.acceptOnce(input.keyId, payload, parsed.timestamp);
  }

  /**
   * The guard is keyed by what was signed, not by one v1 value: a header carrying
   * signatures under both the current and the previous secret cannot be replayed
   * by stripping one of them. Two identical requests in the same second are one
   * request twice, which is exactly what this refuses.
   *
   * The entry lives until the signature could no longer be accepted anyway (see
   * replayGuardExpiresAt). The time left is counted on this server's clock, the one
   * that judged the signature fresh, rather than handed to Redis as an absolute
   * date, so a Redis host whose clock differs cannot shorten it. It is always at
   * least the margin: a signature older than the tolerance never gets this far.
   */
  private async acceptOnce(keyId: string, payload: string, timestamp: number): Promise<boolean> {
    try {
      if (isRedisAway(this.redis.client)) throw new Error(`redis is ${this.redis.client.status}`);
      const ttlMs = replayGuardExpiresAt(timestamp) * 1_000 - Date.now();
      const reply = await withDeadline(
        this.redis.client.set(this.redis.key('sig', keyId, sha256Hex(payload)), '1', 'PX', ttlMs, 'NX'),
        REPLAY_GUARD_DEADLINE_MS,
        `replay guard took longer than ${REPLAY_GUARD_DEADLINE_MS} ms`,
      );
      return reply === 'OK';
    } catch (error) {
      // Logged at most every 10 s: during an outage this is on every signed request.
      if (Date.now() - this.lastWarnAt >= 10_000) {
        this.lastWarnAt = Date.now();
        this.logger.warn(`signatures refused, replay guard unavailable: ${error instanceof Error ? error.message : String(error)}`);
      }
      return false;
    }
  }
}
