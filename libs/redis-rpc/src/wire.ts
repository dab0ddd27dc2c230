import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The wire format of Latchkey's RPC over Redis Streams (docs/rpc-over-redis.md).
 * This folder imports nothing from the rest of the monorepo: the SDK ships it as
 * the client operators' services use to call `auth.verify` over Redis.
 *
 * A request is one entry on its service's stream, read by exactly one instance
 * through the stream's consumer group; the reply is one entry on the caller's own
 * reply stream. Both carry an HMAC-SHA256 over every field, so neither can be
 * forged, and a request carries a random id (the nonce) and a signed deadline,
 * so a captured one cannot be replayed.
 */
export const WIRE_VERSION = '1';

/** Longest deadline a request may carry: it bounds how long a request (and its nonce) lives in Redis. */
export const MAX_DEADLINE_MS = 60_000;

/** How far apart the caller's, the server's and Redis's clocks may be (the nonce outlives the deadline by this). */
export const CLOCK_SKEW_MS = 5_000;

/** Largest payload (JSON, in UTF-16 code units) either side sends or accepts. */
export const MAX_PAYLOAD_LENGTH = 1_048_576;

/** The consumer group every instance of a service reads its stream through. */
export const CONSUMER_GROUP = 'handlers';

/**
 * Which secret signed a message. `internal` is INTERNAL_TOKEN, held by the operator's
 * services and good for `auth.verify` only; `service` is SERVICE_SECRET, held by
 * Latchkey's own processes and good for every pattern; `none` is an unsigned request,
 * accepted only for `auth.verify` on a deployment without INTERNAL_TOKEN.
 */
export type CredentialName = 'internal' | 'service' | 'none';
export const CREDENTIAL_NAMES: readonly CredentialName[] = ['internal', 'service', 'none'];

/** A caller's credential: which one, and its secret (absent for `none`). */
export interface RpcCredential {
  name: CredentialName;
  secret?: string;
}

/** The error half of a reply, the shape Latchkey's handlers refuse with. */
export interface RpcErrorBody {
  code: string;
  message: string;
  kind?: string;
  details?: Array<{ field?: string; message: string }>;
  retry_after_seconds?: number;
}

export type RpcOutcome = { ok: true; data: unknown } | { ok: false; error: RpcErrorBody };

export interface RpcRequest {
  id: string;
  pattern: string;
  replyTo: string;
  deadline: number;
  credential: CredentialName;
  /** The payload as JSON. */
  data: string;
  signature: string;
}

export interface RpcReply {
  id: string;
  ok: boolean;
  /** The reply value, or an RpcErrorBody, as JSON. */
  data: string;
  /** Empty when the server could not sign (it refused the request's credential). */
  signature: string;
}

// Where each key lives. The part in braces is the Redis Cluster hash tag: a service's
// stream and its nonces share a slot (so one pipeline touches one shard), while each
// service and each caller's replies may sit on their own.

/** A pattern's service: the part before the first dot (`auth.verify` → `auth`). */
export function serviceOf(pattern: string): string {
  const dot = pattern.indexOf('.');
  return dot > 0 ? pattern.slice(0, dot) : pattern;
}

export function requestStreamKey(prefix: string, service: string): string {
  return `${prefix}:rpc:{${service}}:requests`;
}

export function nonceKey(prefix: string, service: string, requestId: string): string {
  return `${prefix}:rpc:{${service}}:seen:${requestId}`;
}

/**
 * Reply streams of callers signing with SERVICE_SECRET carry Latchkey's own records
 * (keys.*, orgs.*), so they are named apart from the operators' (`{replies-…}`): a Redis
 * ACL can then let operators' services read `lk:rpc:{replies-*}` and nothing of Latchkey's.
 */
export function replyStreamKey(prefix: string, callerId: string, service = false): string {
  return `${prefix}:rpc:{${service ? 'service-replies' : 'replies'}-${callerId}}`;
}

/** A reply stream of this deployment: the only kind of key a server ever writes a reply to. */
export function isReplyStreamKey(prefix: string, key: string): boolean {
  for (const head of [`${prefix}:rpc:{replies-`, `${prefix}:rpc:{service-replies-`]) {
    if (key.startsWith(head) && key.endsWith('}') && ID_PATTERN.test(key.slice(head.length, -1))) return true;
  }
  return false;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const PATTERN_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** 128 random bits, URL-safe: request ids and caller ids. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

function hmac(secret: string, parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\n')).digest('base64url');
}

/** Constant-time: how long a compare takes says nothing about how much of a signature was right. */
function signatureMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Every field goes into the signature, the JSON last: fields before it cannot hold a
// newline (they are checked against patterns), so no two messages sign the same text.
function requestText(request: Omit<RpcRequest, 'signature'>): string[] {
  return [
    'latchkey-rpc',
    WIRE_VERSION,
    'request',
    request.credential,
    request.id,
    request.pattern,
    request.replyTo,
    String(request.deadline),
    request.data,
  ];
}

function replyText(reply: Omit<RpcReply, 'signature'>): string[] {
  return ['latchkey-rpc', WIRE_VERSION, 'reply', reply.id, reply.ok ? '1' : '0', reply.data];
}

export function signRequest(request: Omit<RpcRequest, 'signature' | 'credential'>, credential: RpcCredential): RpcRequest {
  const unsigned = { ...request, credential: credential.name };
  return { ...unsigned, signature: credential.secret === undefined ? '' : hmac(credential.secret, requestText(unsigned)) };
}

/** The secret among `secrets` (one, or two while rotating) that signed the request, if any; every one is tried. */
export function requestSigner(request: RpcRequest, secrets: readonly string[]): string | undefined {
  let signer: string | undefined;
  for (const secret of secrets) {
    if (signatureMatches(request.signature, hmac(secret, requestText(request))) && signer === undefined) signer = secret;
  }
  return signer;
}

export function signReply(reply: Omit<RpcReply, 'signature'>, secret: string | undefined): RpcReply {
  return { ...reply, signature: secret === undefined ? '' : hmac(secret, replyText(reply)) };
}

export function replySignedBy(reply: RpcReply, secret: string): boolean {
  return signatureMatches(reply.signature, hmac(secret, replyText(reply)));
}

// Stream entries are flat [field, value, field, value, …] lists.

export function requestFields(request: RpcRequest): string[] {
  return [
    'v',
    WIRE_VERSION,
    'id',
    request.id,
    'p',
    request.pattern,
    'r',
    request.replyTo,
    'dl',
    String(request.deadline),
    'k',
    request.credential,
    'd',
    request.data,
    's',
    request.signature,
  ];
}

export function replyFields(reply: RpcReply): string[] {
  return ['id', reply.id, 'ok', reply.ok ? '1' : '0', 'd', reply.data, 's', reply.signature];
}

function fieldMap(fields: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (!map.has(fields[i])) map.set(fields[i], fields[i + 1]);
  }
  return map;
}

/** A request entry read from a stream, or why it is not one (a version, a field, a size this side does not take). */
export function parseRequest(fields: string[]): RpcRequest | string {
  const map = fieldMap(fields);
  // Quoted and cut short: the value is whatever was written to the stream, and it goes to a log.
  if (map.get('v') !== WIRE_VERSION) return `wire version ${JSON.stringify((map.get('v') ?? '').slice(0, 16))} is not ${WIRE_VERSION}`;
  const id = map.get('id') ?? '';
  const pattern = map.get('p') ?? '';
  const replyTo = map.get('r') ?? '';
  const deadline = Number(map.get('dl'));
  const credential = map.get('k') as CredentialName;
  const data = map.get('d');
  const signature = map.get('s') ?? '';
  if (!ID_PATTERN.test(id)) return 'the request id is malformed';
  if (!PATTERN_PATTERN.test(pattern)) return 'the pattern is malformed';
  if (!Number.isSafeInteger(deadline)) return 'the deadline is not a number of milliseconds';
  if (!CREDENTIAL_NAMES.includes(credential)) return 'the credential name is unknown';
  if (data === undefined || data.length > MAX_PAYLOAD_LENGTH) return 'the payload is missing or too large';
  if (replyTo.includes('\n')) return 'the reply stream is malformed';
  return { id, pattern, replyTo, deadline, credential, data, signature };
}

export function parseReply(fields: string[]): RpcReply | undefined {
  const map = fieldMap(fields);
  const id = map.get('id');
  const ok = map.get('ok');
  const data = map.get('d');
  if (id === undefined || !ID_PATTERN.test(id) || (ok !== '1' && ok !== '0') || data === undefined) return undefined;
  return { id, ok: ok === '1', data, signature: map.get('s') ?? '' };
}
