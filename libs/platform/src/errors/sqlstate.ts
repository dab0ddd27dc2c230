/**
 * Postgres's SQLSTATEs, in one place for the two readers of them: the error mapping
 * (toAppError: which failures are the client's, a race, or a dependency down) and the
 * log's description of a failed statement (describeDbError).
 */

/** The codes the error mapping acts on. */
export const SqlState = {
  UniqueViolation: '23505',
  SerializationFailure: '40001',
  DeadlockDetected: '40P01',
} as const;

/** Class 22, data exception: a value Postgres cannot read, store or convert. */
export const DATA_EXCEPTION_CLASS = '22';

/** Condition names of the SQLSTATEs a log reader meets most; the rest are looked up by code. */
export const SQLSTATE_CONDITIONS: Readonly<Record<string, string>> = {
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '23P01': 'exclusion_violation',
  '25P02': 'in_failed_sql_transaction',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42P01': 'undefined_table',
  '53300': 'too_many_connections',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
};

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Whether `code` has a SQLSTATE's shape (five digits or capitals). */
export function isSqlState(code: string): boolean {
  return SQLSTATE.test(code);
}

/**
 * The SQLSTATE of a Postgres error as pg (DatabaseError) or MikroORM (DriverException,
 * which copies pg's fields) throws it: a SQLSTATE-shaped `code` beside a `severity`.
 * Null for anything else (a Node error's `ECONNREFUSED` has a code but no severity).
 */
export function sqlStateOf(error: unknown): string | null {
  const candidate = error as { code?: unknown; severity?: unknown } | null;
  return typeof candidate?.code === 'string' && isSqlState(candidate.code) && typeof candidate.severity === 'string'
    ? candidate.code
    : null;
}
