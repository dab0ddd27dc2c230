import { parseApiKey, parseSignatureHeader, sha256Hex } from '@latchkey/crypto';

import { LatchkeyUnavailableError } from '../core/errors';
import { OutageCache } from './outage-cache';
import { FailedOpenVerdict, RefusedVerdict, Verdict, VerifyRequestBody } from './verdict';

export interface VerifyInput extends VerifyRequestBody {
  /**
   * The caller's `x-signature` header, for a signing key (pk_): sent as `signature` with
   * the hash of `body` (the raw request body; none means the empty body).
   */
  signatureHeader?: string;
  body?: string | Uint8Array;
  /** Per call; overrides the verifier's timeout. */
  timeoutMs?: number;
  /**
   * When Latchkey cannot be asked, answer a FailedOpenVerdict instead of throwing
   * LatchkeyUnavailableError. Off unless asked for on this call.
   */
  failOpen?: boolean;
}

/** Sends one verify body and answers the verdict; throws LatchkeyUnavailableError when it cannot. */
export interface VerifyTransport {
  send(body: VerifyRequestBody, timeoutMs: number): Promise<Verdict>;
  close(): Promise<void>;
}

/** A refusal of a malformed key, as Latchkey itself answers one. */
const MALFORMED: RefusedVerdict = Object.freeze({ valid: false, code: 'MALFORMED' });

/**
 * Verifies presented keys for a service (docs/sdk.md#verifying-keys). A key whose format
 * or checksum is wrong is refused here with no I/O; every other one is sent to Latchkey,
 * exactly once: a verify spends rate limit and quota, so one that may have reached
 * Latchkey is never retried. Nothing is cached unless an OutageCache is given: then passes
 * are remembered and answered (degraded, from_cache) only while Latchkey is unreachable.
 */
export class Verifier {
  constructor(
    private readonly transport: VerifyTransport,
    private readonly defaultTimeoutMs: number,
    private readonly outageCache?: OutageCache,
  ) {}

  verify(input: VerifyInput & { failOpen: true }): Promise<Verdict | FailedOpenVerdict>;
  verify(input: VerifyInput): Promise<Verdict>;
  async verify(input: VerifyInput): Promise<Verdict | FailedOpenVerdict> {
    if (typeof input.key !== 'string' || !parseApiKey(input.key)) return { ...MALFORMED };
    const wire = verifyBody(input);
    const name = this.outageCache ? OutageCache.keyOf(wire) : undefined;
    try {
      const verdict = await this.transport.send(wire, input.timeoutMs ?? this.defaultTimeoutMs);
      if (name !== undefined) {
        // A refusal forgets every earlier pass of the key: one revoked while Latchkey is up must not pass in a later outage.
        if (verdict.valid) this.outageCache?.remember(name, wire.key, verdict);
        else this.outageCache?.forgetKey(wire.key);
      }
      return verdict;
    } catch (error) {
      if (name !== undefined && error instanceof LatchkeyUnavailableError) {
        const remembered = this.outageCache?.recall(name);
        if (remembered) return remembered;
      }
      if (input.failOpen && error instanceof LatchkeyUnavailableError) {
        return { valid: true, code: 'VALID', failed_open: true, degraded: true, error };
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** The wire body: the input without the SDK's own options, the signature header as the `signature` object. */
export function verifyBody(input: VerifyInput): VerifyRequestBody {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- taken out: they are the SDK's options, not the wire's
  const { signatureHeader, body, timeoutMs, failOpen, ...wire } = input;
  if (signatureHeader !== undefined && wire.signature === undefined) {
    const parsed = parseSignatureHeader(signatureHeader);
    // An unreadable header still goes to Latchkey, which answers INVALID_SIGNATURE for it.
    wire.signature = {
      timestamp: parsed?.timestamp ?? 0,
      value: parsed?.signatures[0] ?? '',
      body_sha256: sha256Hex(body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body)),
    };
  }
  return wire;
}
