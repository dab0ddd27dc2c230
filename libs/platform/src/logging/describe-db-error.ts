import { isSqlState, SQLSTATE_CONDITIONS } from '../errors/sqlstate';

/**
 * What a failed SQL statement may say in a log: its SQLSTATE and the objects Postgres
 * names (constraint, table, column), and the statement with every value taken out.
 *
 * MikroORM inlines the parameters before it sends a statement, and the driver puts that
 * statement in front of Postgres's own message (`<sql> - <reason>`); the reason and pg's
 * `detail` quote values too (`invalid input syntax for type integer: "…"`, `Key (email)=(…)`).
 * So the message, the detail and the stack's first line are never logged for these errors.
 */
export interface DbErrorDescription {
  /** The error's class: pg's DatabaseError or MikroORM's exception (UniqueConstraintViolationException, …). */
  type: string;
  sqlstate?: string;
  /** Postgres's condition name for the SQLSTATE, where it is a common one. */
  condition?: string;
  constraint?: string;
  schema?: string;
  table?: string;
  column?: string;
  /** The failed statement with literals and parameters replaced by `?`. */
  statement?: string;
  /** The stack's frames only: its first line repeats the message. */
  stack?: string;
}

// The statements the driver can put in front of a message; anything else is not SQL.
const SQL_START =
  /^\s*(select|insert|update|delete|with|merge|create|alter|drop|truncate|copy|begin|start|commit|rollback|savepoint|release|set|reset|lock|explain|values|call|do|listen|unlisten|notify|refresh|vacuum|analyze|grant|revoke|comment|prepare|execute|deallocate|declare|fetch|close|show|table)\b/i;

/** Statements longer than this are cut: a batch insert can be megabytes long. */
const MAX_STATEMENT_CHARS = 2_000;

interface DbErrorFields {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
  code?: unknown;
  severity?: unknown;
  constraint?: unknown;
  schema?: unknown;
  table?: unknown;
  column?: unknown;
}

/**
 * A Postgres error (pg's DatabaseError or MikroORM's DriverException, which copies pg's
 * fields), or any error whose message starts with a statement the driver prepended
 * (a connection lost mid-query has no SQLSTATE but still quotes the statement).
 */
export function isDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const fields = error as DbErrorFields;
  if (typeof fields.code === 'string' && isSqlState(fields.code) && typeof fields.severity === 'string') return true;
  return typeof fields.message === 'string' && SQL_START.test(fields.message) && fields.message.includes(' - ');
}

/** The loggable description of a database error, or null when `error` is not one. */
export function describeDbError(error: unknown): DbErrorDescription | null {
  if (!isDatabaseError(error)) return null;
  const fields = error as DbErrorFields;
  const description: DbErrorDescription = { type: errorType(error as object) };
  if (typeof fields.code === 'string' && isSqlState(fields.code)) {
    description.sqlstate = fields.code;
    const condition = SQLSTATE_CONDITIONS[fields.code];
    if (condition) description.condition = condition;
  }
  for (const key of ['constraint', 'schema', 'table', 'column'] as const) {
    if (typeof fields[key] === 'string' && fields[key] !== '') description[key] = fields[key];
  }
  const statement = typeof fields.message === 'string' ? statementOf(fields.message) : undefined;
  if (statement) description.statement = statement;
  const frames = typeof fields.stack === 'string' ? stackFrames(fields.stack) : '';
  if (frames) description.stack = frames;
  return description;
}

/** One line for a log message: `database error 23505 unique_violation (constraint users_email_unique, table users): insert … (?, ?)`. */
export function describeDbErrorText(description: DbErrorDescription): string {
  const names = (['constraint', 'table', 'column'] as const)
    .filter((key) => description[key] !== undefined)
    .map((key) => `${key} ${description[key]}`);
  let text = `database error ${[description.sqlstate ?? description.type, description.condition].filter(Boolean).join(' ')}`;
  if (names.length > 0) text += ` (${names.join(', ')})`;
  if (description.statement) text += `: ${description.statement}`;
  return text;
}

/**
 * The statement the driver prepended to `message`, with its values taken out; undefined
 * when the message does not start with one (pg's own errors carry only the reason).
 */
export function statementOf(message: string): string | undefined {
  // MikroORM appends pg's detail and hint on lines of their own.
  const firstPart = message.split(/\n - (?:detail|hint): /)[0];
  if (!SQL_START.test(firstPart)) return undefined;
  // Without the separator there is no telling the statement from pg's reason, which
  // quotes values in double quotes like identifiers: log no statement rather than guess.
  const separator = lastTopLevelSeparator(firstPart);
  if (separator === -1) return undefined;
  const stripped = statementWithoutValues(firstPart.slice(0, separator));
  return stripped.length > MAX_STATEMENT_CHARS ? `${stripped.slice(0, MAX_STATEMENT_CHARS)} …` : stripped;
}

/**
 * SQL text with its values replaced by `?`: string literals ('…', E'…', $tag$…$tag$),
 * bit strings, numbers and `$1` parameters. Identifiers ("users"), keywords, NULL and
 * booleans stay, so the statement still says what was attempted on which columns.
 */
export function statementWithoutValues(sql: string): string {
  let out = '';
  let index = 0;
  while (index < sql.length) {
    const char = sql[index];
    const next = sql[index + 1];
    if (
      char === "'" ||
      ((char === 'E' || char === 'e' || char === 'B' || char === 'b' || char === 'X' || char === 'x') &&
        next === "'" &&
        !isWordChar(sql[index - 1]))
    ) {
      const start = char === "'" ? index : index + 1;
      index = endOfQuoted(sql, start, "'", char === 'E' || char === 'e');
      out += '?';
      continue;
    }
    if ((char === 'U' || char === 'u') && next === '&' && sql[index + 2] === "'" && !isWordChar(sql[index - 1])) {
      index = endOfQuoted(sql, index + 2, "'", false);
      out += '?';
      continue;
    }
    if (char === '"') {
      const end = endOfQuoted(sql, index, '"', false);
      out += sql.slice(index, end);
      index = end;
      continue;
    }
    if (char === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index));
      if (tag && !isWordChar(sql[index - 1])) {
        const close = sql.indexOf(tag[0], index + tag[0].length);
        index = close === -1 ? sql.length : close + tag[0].length;
        out += '?';
        continue;
      }
      const parameter = /^\$\d+/.exec(sql.slice(index));
      if (parameter) {
        index += parameter[0].length;
        out += '?';
        continue;
      }
    }
    if (char === '/' && next === '*') {
      const close = sql.indexOf('*/', index + 2);
      index = close === -1 ? sql.length : close + 2;
      out += '/* */';
      continue;
    }
    if (char === '-' && next === '-') {
      const close = sql.indexOf('\n', index);
      index = close === -1 ? sql.length : close;
      continue;
    }
    if (isDigit(char) || (char === '.' && isDigit(next))) {
      if (isWordChar(sql[index - 1])) {
        // Part of an identifier such as t1 or "a".b2: keep it.
        out += char;
        index += 1;
        continue;
      }
      const number = /^(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(sql.slice(index));
      const length = number ? number[0].length : 1;
      index += length;
      out += '?';
      continue;
    }
    out += char;
    index += 1;
  }
  return out;
}

/** Where the driver's ` - ` between the statement and pg's reason is: the last one outside quotes and comments. */
function lastTopLevelSeparator(text: string): number {
  let found = -1;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === "'") {
      const escapes = text[index - 1] === 'E' || text[index - 1] === 'e';
      index = endOfQuoted(text, index, "'", escapes);
      continue;
    }
    if (char === '"') {
      index = endOfQuoted(text, index, '"', false);
      continue;
    }
    if (char === '$' && !isWordChar(text[index - 1])) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(index));
      if (tag) {
        const close = text.indexOf(tag[0], index + tag[0].length);
        index = close === -1 ? text.length : close + tag[0].length;
        continue;
      }
    }
    if (char === '/' && text[index + 1] === '*') {
      const close = text.indexOf('*/', index + 2);
      index = close === -1 ? text.length : close + 2;
      continue;
    }
    if (char === ' ' && text[index + 1] === '-' && text[index + 2] === ' ') found = index;
    index += 1;
  }
  return found;
}

/** The index just after the quote that closes the one at `start` (doubled quotes, and backslashes in E'…', escape). */
function endOfQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (backslashEscapes && char === '\\') {
      index += 2;
      continue;
    }
    if (char === quote) {
      if (text[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return text.length;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_$]/.test(char);
}

function errorType(error: object): string {
  const name = (error as { name?: unknown }).name;
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof constructorName === 'string' && constructorName !== 'Object' && constructorName !== 'Error') return constructorName;
  return typeof name === 'string' ? name : 'Error';
}

/** `at …` lines only. */
function stackFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .join('\n');
}
