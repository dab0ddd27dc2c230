import Ajv, { ErrorObject } from 'ajv';

import { ErrorDetail, RECEIVER_AJV_OPTIONS } from '@latchkey/contracts';

import { AppError } from './app-error';

/** Strict, every error collected (only a refused payload pays for that): RECEIVER_AJV_OPTIONS. */
const ajv = new Ajv(RECEIVER_AJV_OPTIONS);

/**
 * A missing or unknown field says more than what follows from it: Ajv checks a
 * payload's property count before its property names, and `{hash, org_id}` should be
 * refused for `org_id`, not for having two fields.
 */
const FIRST_KEYWORDS: ReadonlySet<string> = new Set(['additionalProperties', 'required']);

/**
 * A payload parser for the hot paths (the key checks, the key service's lookups),
 * compiled once from a JSON schema: a compiled schema is cheap, where the global
 * ValidationPipe with a class-validator DTO cost a large share of the verify route's
 * throughput (docs/decisions/0005-compiled-schemas-on-the-hot-path.md). What it refuses is a VALIDATION_FAILED AppError
 * naming each bad field in its details (400 over HTTP, an RpcErrorReply over RPC), as
 * the ValidationPipe's refusals do; the message is the first detail's.
 *
 * `messages` replaces the generic message of a field whose value is wrong (`body` for the
 * payload as a whole); a missing or unknown field keeps saying so.
 */
export function jsonSchemaParser<T>(schema: object, messages: Readonly<Record<string, string>> = {}): (payload: unknown) => T {
  const validate = ajv.compile<T>(schema);
  return (payload) => {
    if (validate(payload)) return payload;
    const errors = validate.errors ?? [];
    const ordered = [
      ...errors.filter((error) => FIRST_KEYWORDS.has(error.keyword)),
      ...errors.filter((error) => !FIRST_KEYWORDS.has(error.keyword)),
    ];
    const details = ordered.map((error) => toDetail(error, messages));
    throw AppError.validation(details[0]?.message ?? 'The request body is invalid.', details);
  };
}

function toDetail(error: ErrorObject, messages: Readonly<Record<string, string>>): ErrorDetail {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const field = [path, (error.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
    return { field, message: `${field} is not a known field` };
  }
  if (error.keyword === 'required') {
    const field = [path, (error.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
    return { field, message: `${field} is required` };
  }
  const field = path || 'body';
  return { field, message: messages[field] ?? `${field} ${error.message ?? 'is invalid'}` };
}
