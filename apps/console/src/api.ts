import type { components } from '../../../packages/sdk/src/generated/openapi';

/**
 * The console's only way to the API: same origin, the HttpOnly session cookie, and the
 * CSRF cookie's value echoed in X-CSRF-Token on every write (docs/console.md). No token
 * is ever kept in script-readable storage.
 */

export interface FieldError {
  field: string;
  message: string;
}

/** A refusal in the API's error envelope, with the request id a person can quote. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function csrfToken(): string | null {
  for (const pair of document.cookie.split(';')) {
    const [name, ...rest] = pair.trim().split('=');
    // `__Host-` prefixed where the cookies are Secure (docs/console.md#cookie-and-csrf).
    if (name === '__Host-latchkey_csrf' || name === 'latchkey_csrf') return rest.join('=');
  }
  return null;
}

interface Envelope<T> {
  success: boolean;
  data?: T;
  error?: { code: string; message: string; details?: FieldError[]; request_id?: string };
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  // The session lives in the HttpOnly cookie alone: login and signup then send no token this page could leak.
  const headers: Record<string, string> = { accept: 'application/json', 'x-latchkey-session': 'cookie' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached; check that Latchkey is running.', null);
  }
  const requestId = response.headers.get('x-request-id');
  let envelope: Envelope<T> | null = null;
  try {
    envelope = (await response.json()) as Envelope<T>;
  } catch {
    envelope = null;
  }
  if (!response.ok || !envelope || envelope.success === false) {
    const error = envelope?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'UNEXPECTED',
      error?.message ?? `The server answered ${response.status} without an error message.`,
      error?.request_id ?? requestId,
      error?.details ?? [],
    );
  }
  return envelope.data as T;
}

/** For list endpoints, whose page carries next_cursor beside data. */
export async function apiPage<T>(path: string): Promise<{ data: T[]; next_cursor: string | null }> {
  const response = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  const body = (await response.json().catch(() => null)) as (Envelope<T[]> & { next_cursor?: string | null }) | null;
  if (!response.ok || !body || body.success === false) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? 'UNEXPECTED',
      body?.error?.message ?? `The server answered ${response.status}.`,
      body?.error?.request_id ?? response.headers.get('x-request-id'),
    );
  }
  return { data: body.data ?? [], next_cursor: body.next_cursor ?? null };
}

// The API's own shapes, from the OpenAPI document through the SDK's generated types
// (kept in step with docs/openapi.json by packages/sdk/scripts/generate-types.spec.ts).
type Schemas = components['schemas'];
export type Session = Schemas['SessionResponseDto'];
export type ApiKey = Schemas['ApiKeyResponseDto'];
export type CreatedApiKey = Schemas['ApiKeyWithSecretResponseDto'];
export type WebhookEndpoint = Schemas['WebhookEndpointResponseDto'];
export type CreatedWebhookEndpoint = Schemas['WebhookEndpointWithSecretResponseDto'];
export type WebhookEventType = Schemas['WebhookEventTypeResponseDto'];
export type WebhookTest = Schemas['WebhookTestResponseDto'];
export type WebhookDelivery = Schemas['WebhookDeliveryResponseDto'];
export type Member = Schemas['MemberResponseDto'];
export type Invitation = Schemas['InvitationResponseDto'];
export type Role = Session['role'];

/** Owners and admins manage the organisation: webhooks, members, every key. */
export function managesOrg(session: Session): boolean {
  return session.role === 'owner' || session.role === 'admin';
}

/** A developer changes only the keys it created; a viewer only reads. */
export function mayChangeKey(session: Session, key: ApiKey): boolean {
  return managesOrg(session) || (session.role === 'developer' && key.created_by === session.user.id);
}
