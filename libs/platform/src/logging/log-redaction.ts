import { describeDbError, describeDbErrorText } from './describe-db-error';

export const REDACTED = '[redacted]';

/**
 * Key names that hold a secret wherever they appear. Keys are compared lower-cased with
 * separators removed, so `x-api-key`, `apiKey` and `api_key` are one name, and
 * `password_hash`, `session_token` and `webhook_secret` end in one of the suffixes.
 */
const SECRET_KEY_NAMES = new Set(['key', 'pass', 'pwd']);
const SECRET_KEY_SUFFIXES = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'hash',
  'signature',
  'privatekey',
  'credential',
  // `encryption_key`, `signing_key`, `secret_key`: a name ending in "key" holds one, but for these.
  'key',
];
/** Names ending in "key" that name something, not a secret. */
const NON_SECRET_KEY_NAMES = new Set(['publickey', 'idempotencykey', 'cachekey', 'primarykey', 'partitionkey', 'sortkey', 'jobkey']);

/** `scheme://user:password@host`: the password of a URL (REDIS_URL, DATABASE_URL, SMTP_URL) written in any string. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/** A string with any URL's password replaced. */
export function redactUrlPasswords(text: string): string {
  return text.includes('://') ? text.replace(URL_PASSWORD, `$1${REDACTED}@`) : text;
}

/**
 * Bounds on what one log call walks. Lines are small (the hot path logs almost never),
 * but an object handed to the logger can be anything; beyond the bounds the value is
 * replaced, never written unredacted.
 */
const MAX_DEPTH = 8;
const MAX_NODES = 1_000;
const MAX_ARRAY_ITEMS = 100;
const TRUNCATED = '[truncated]';

export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (SECRET_KEY_NAMES.has(normalized)) return true;
  if (NON_SECRET_KEY_NAMES.has(normalized)) return false;
  // `keys` (a list of key records) is not `key`s: the plural is read for the other suffixes only.
  return SECRET_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix) || (suffix !== 'key' && normalized.endsWith(`${suffix}s`)));
}

interface Budget {
  nodes: number;
}

/** A copy of `value` with every secret-named field replaced, at any depth, and errors made loggable. */
export function redactForLog(value: unknown): unknown {
  return redactValue(value, 0, { nodes: MAX_NODES });
}

/**
 * pino's `formatters.log`: runs on the object of every line before the serializers.
 * Keys that have a serializer (req, res, err) are left to it; the serializers redact too.
 */
export function redactLogObject(serializedKeys: ReadonlySet<string>): (object: Record<string, unknown>) => Record<string, unknown> {
  return (object) => {
    const budget = { nodes: MAX_NODES };
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      const value = object[key];
      if (serializedKeys.has(key)) out[key] = value;
      else out[key] = isSecretKey(key) ? REDACTED : redactValue(value, 1, budget);
    }
    return out;
  };
}

/**
 * pino's `err` serializer. A database error becomes its description (SQLSTATE,
 * constraint, table, column, statement without values); any other error keeps its
 * message and stack, its own fields redacted, and its `cause` serialized the same way.
 */
export function serializeErrorForLog(value: unknown): unknown {
  return redactValue(unwrapStdError(value), 0, { nodes: MAX_NODES });
}

/**
 * An error's text for a log message: a database error's description, else its message
 * (scrubbed of any database error it wraps).
 */
export function errorMessageForLog(error: unknown): string {
  const original = unwrapStdError(error);
  const database = describeDbError(original);
  if (database) return describeDbErrorText(database);
  // Also pino's msg and the failedReason BullMQ stores, which the serializers never see.
  if (isErrorLike(original)) return redactUrlPasswords(scrubDbMessages(original.message, original));
  return redactUrlPasswords(String(original));
}

/**
 * pino's `hooks.logMethod`: a line logged with only an error, `logger.error(err)` or
 * `logger.error({ err })`, gets the error's message as its `msg`, which for a failed
 * statement is the SQL with values. Give it the loggable text instead.
 */
export function errorMessageHook(this: unknown, args: unknown[], method: (...args: unknown[]) => void): void {
  const [first] = args;
  if (args.length === 1 && typeof first === 'object' && first !== null) {
    if (isErrorLike(first)) return method.apply(this, [{ err: first }, errorMessageForLog(first)]);
    const { err, msg } = first as { err?: unknown; msg?: unknown };
    if (msg === undefined && isErrorLike(err)) return method.apply(this, [first, errorMessageForLog(err)]);
  }
  method.apply(this, args);
}

interface ErrorLike {
  message: string;
  name?: unknown;
  stack?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  if (value instanceof Error) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorLike).message === 'string' &&
    typeof (value as ErrorLike).stack === 'string'
  );
}

/**
 * pino-http runs pino's standard error serializer before ours; it has already copied the
 * message (with its causes') and every field. Its result keeps the original as a
 * non-enumerable `raw`: start again from that.
 */
function unwrapStdError(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const raw = (value as { raw?: unknown }).raw;
  if (typeof raw === 'object' && raw !== null && !Object.prototype.hasOwnProperty.call(value, 'raw')) return raw;
  return value;
}

function redactValue(value: unknown, depth: number, budget: Budget): unknown {
  if (typeof value === 'string') return redactUrlPasswords(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || budget.nodes <= 0) return TRUNCATED;
  budget.nodes -= 1;
  if (isErrorLike(value)) return serializeError(value, depth, budget);
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY_ITEMS).map((item) => redactValue(item, depth + 1, budget));
    if (value.length > MAX_ARRAY_ITEMS) items.push(`[${value.length - MAX_ARRAY_ITEMS} more]`);
    return items;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // Dates, Buffers, entities: log what JSON.stringify would have written, redacted.
    const json: unknown = toJSON.call(value);
    if (json !== value) return redactValue(json, depth, budget);
  }
  return redactFields(value as Record<string, unknown>, depth, budget);
}

function redactFields(
  value: Record<string, unknown>,
  depth: number,
  budget: Budget,
  skip: ReadonlySet<string> = NOTHING,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (skip.has(key)) continue;
    out[key] = isSecretKey(key) ? REDACTED : redactValue(value[key], depth + 1, budget);
  }
  return out;
}

const NOTHING: ReadonlySet<string> = new Set();
const ERROR_OWN_KEYS: ReadonlySet<string> = new Set(['message', 'stack', 'cause', 'errors']);

function serializeError(error: ErrorLike, depth: number, budget: Budget): unknown {
  const database = describeDbError(error);
  if (database) return database;
  const out: Record<string, unknown> = {
    type: errorType(error),
    message: redactUrlPasswords(scrubDbMessages(error.message, error)),
    ...(typeof error.stack === 'string' ? { stack: redactUrlPasswords(scrubDbMessages(error.stack, error)) } : {}),
    ...redactFields(error as unknown as Record<string, unknown>, depth, budget, ERROR_OWN_KEYS),
  };
  if (error.cause !== undefined) out.cause = redactValue(error.cause, depth + 1, budget);
  if (Array.isArray(error.errors)) out.errors = redactValue(error.errors, depth + 1, budget);
  return out;
}

/**
 * A wrapper's message often repeats its cause's (`could not save: insert into … - …`):
 * where a database error in the cause chain is quoted, quote its description instead.
 */
function scrubDbMessages(text: string, error: ErrorLike): string {
  let scrubbed = text;
  let cause: unknown = error.cause;
  for (let hops = 0; hops < 5 && typeof cause === 'object' && cause !== null; hops += 1) {
    const database = describeDbError(cause);
    const message = (cause as { message?: unknown }).message;
    if (database && typeof message === 'string' && message !== '') {
      // MikroORM appends pg's detail after the statement; the wrapper may quote either part.
      const replacement = describeDbErrorText(database);
      for (const part of [message, message.split('\n')[0]]) scrubbed = scrubbed.split(part).join(replacement);
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return scrubbed;
}

function errorType(error: ErrorLike): string {
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof constructorName === 'string' && constructorName !== 'Object') return constructorName;
  return typeof error.name === 'string' ? error.name : 'Error';
}
