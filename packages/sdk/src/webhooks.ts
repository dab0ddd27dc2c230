import { checkWebhookSignature, WebhookSignatureFailure } from '@latchkey/crypto';

/** Why a delivery was refused: a signature header missing, a timestamp too old or new, no matching signature, or a body that is not an event. */
export type WebhookVerificationFailure = WebhookSignatureFailure | 'invalid_payload';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';

  constructor(
    readonly reason: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** An event as Latchkey delivers it (docs/api-conventions.md#webhooks). */
export interface WebhookEvent<TData = Record<string, unknown>> {
  id: string;
  type: WebhookEventType;
  created_at: string;
  org_id: string;
  environment: 'test' | 'live';
  data: TData;
}

/** One of `GET /v1/webhooks/event-types` (`api_key.created`, `alert.triggered`…); new types may appear. */
export type WebhookEventType = string;

export interface VerifyWebhookInput {
  /** The raw body exactly as received: re-serialised JSON does not verify. */
  payload: string | Uint8Array;
  /** The request's headers (a plain object, a Fetch Headers, Node's IncomingHttpHeaders). */
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null };
  /** The endpoint's `whsec_…` secret; or `secrets` with both during a rotation. */
  secret?: string;
  secrets?: readonly string[];
  /** Unix seconds; defaults to now (a test may pin it). */
  nowSeconds?: number;
}

const MESSAGES: Record<WebhookVerificationFailure, string> = {
  missing_headers: 'The webhook-id, webhook-timestamp or webhook-signature header is missing or unreadable.',
  stale_timestamp: 'The webhook-timestamp is more than 5 minutes from now: a replay, or a clock out of sync.',
  no_matching_signature: 'No webhook-signature matches the payload under the given secret(s).',
  invalid_payload: 'The payload is not a Latchkey event.',
};

/**
 * Checks a delivery's Standard Webhooks signature (any of `secrets` may match: the new
 * and the old one during a rotation) and answers its event; throws
 * WebhookVerificationError otherwise. The check is the one the usage worker signs with
 * (libs/crypto), bundled.
 */
export function verifyWebhook<TData = Record<string, unknown>>(input: VerifyWebhookInput): WebhookEvent<TData> {
  const secrets = input.secrets ?? (input.secret === undefined ? [] : [input.secret]);
  if (secrets.length === 0) throw new TypeError('verifyWebhook needs secret or secrets');
  const body = typeof input.payload === 'string' ? input.payload : Buffer.from(input.payload).toString('utf8');
  const delivery = {
    messageId: header(input.headers, 'webhook-id'),
    timestamp: header(input.headers, 'webhook-timestamp'),
    signatureHeader: header(input.headers, 'webhook-signature'),
    body,
  };
  let failure: WebhookSignatureFailure | null;
  try {
    failure = checkWebhookSignature(delivery, secrets, input.nowSeconds ?? Math.floor(Date.now() / 1000));
  } catch {
    // A secret without its whsec_ prefix: nothing can match it.
    failure = 'no_matching_signature';
  }
  if (failure) throw new WebhookVerificationError(failure, MESSAGES[failure]);
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('invalid_payload', MESSAGES.invalid_payload);
  }
  const candidate = event as Partial<WebhookEvent> | null;
  if (!candidate || typeof candidate.id !== 'string' || typeof candidate.type !== 'string') {
    throw new WebhookVerificationError('invalid_payload', MESSAGES.invalid_payload);
  }
  return event as WebhookEvent<TData>;
}

function header(headers: VerifyWebhookInput['headers'], name: string): string {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? '';
  const bag = headers as Record<string, string | string[] | undefined>;
  const value = bag[name] ?? Object.entries(bag).find(([key]) => key.toLowerCase() === name)?.[1];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
