/**
 * `@latchkey/sdk` (docs/sdk.md): the management client, the verifier for services,
 * webhook verification and request signing.
 */
export * from './management';
export { extractKey } from './extract-key';
export { signRequest } from './signing';
export type { SignedRequestHeaders, SignRequestInput } from './signing';
export { createVerifier } from './verifier/create-verifier';
export type { VerifierOptions } from './verifier/create-verifier';
export type { HttpVerifierOptions } from './verifier/http-transport';
export type { RedisVerifierOptions } from './verifier/redis-transport';
export type { OutageCacheOptions } from './verifier/outage-cache';
export type {
  FailedOpenVerdict,
  PassingVerdict,
  QuotaState,
  RateLimitState,
  RefusedVerdict,
  Verdict,
  VerifyCode,
  VerifyRequestBody,
} from './verifier/verdict';
export { Verifier } from './verifier/verifier';
export type { VerifyInput } from './verifier/verifier';
export { verifyWebhook, WebhookVerificationError } from './webhooks';
export type { VerifyWebhookInput, WebhookEvent, WebhookEventType, WebhookVerificationFailure } from './webhooks';
