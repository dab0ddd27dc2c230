import { isPostgresText } from '@latchkey/contracts';

import { AppError } from '../errors/app-error';

/**
 * How deep a request's JSON may nest. No payload of this API needs more than a few
 * levels; the bound keeps recursive code further on (DTO transformation, hashing,
 * the ORM) from overflowing the stack on a body nested thousands deep.
 */
export const MAX_JSON_DEPTH = 64;

export type InputProblem = { kind: 'string'; path: string } | { kind: 'depth'; path: string };

interface Frame {
  node: Record<string, unknown> | unknown[];
  /** Own keys of an object; null for an array. */
  keys: string[] | null;
  next: number;
  /** The key of this node in its parent ('' for the root). */
  key: string;
}

/**
 * The first string (value or key name, at any depth) Postgres cannot store, or the
 * first place nesting exceeds `maxDepth`; null when there is neither. Iterative, so a
 * value nested deeper than the stack allows is still walked.
 */
export function findInputProblem(value: unknown, maxDepth = Infinity, root = ''): InputProblem | null {
  if (typeof value === 'string') return !isPostgresText(value) ? { kind: 'string', path: root } : null;
  if (value === null || typeof value !== 'object') return null;
  if (maxDepth < 1) return { kind: 'depth', path: root };
  const frames: Frame[] = [frameOf(value as Frame['node'], root)];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1];
    const length = frame.keys ? frame.keys.length : (frame.node as unknown[]).length;
    if (frame.next >= length) {
      frames.pop();
      continue;
    }
    const index = frame.next++;
    const key = frame.keys ? frame.keys[index] : String(index);
    if (frame.keys && !isPostgresText(key)) return { kind: 'string', path: pathOf(frames, key) };
    const child = frame.keys ? (frame.node as Record<string, unknown>)[key] : (frame.node as unknown[])[index];
    if (typeof child === 'string') {
      if (!isPostgresText(child)) return { kind: 'string', path: pathOf(frames, key) };
    } else if (child !== null && typeof child === 'object') {
      if (frames.length >= maxDepth) return { kind: 'depth', path: pathOf(frames, key) };
      frames.push(frameOf(child as Frame['node'], key));
    }
  }
  return null;
}

/**
 * The refusal for a request part (`body`, `query`, `params`), or null when it is
 * storable and nested at most MAX_JSON_DEPTH deep. Fields are named as the
 * ValidationPipe names them: body fields bare, the others by their parameter name.
 */
export function refuseHostileInput(value: unknown, part: 'body' | 'query' | 'params'): AppError | null {
  const problem = findInputProblem(value, MAX_JSON_DEPTH);
  if (!problem) return null;
  const field = problem.path || part;
  if (problem.kind === 'depth') {
    const message = `The request ${part === 'body' ? 'body' : part} is nested deeper than ${MAX_JSON_DEPTH} levels.`;
    return AppError.validation(message, [{ field, message }]);
  }
  const message = `${field} must not contain NUL characters or unpaired UTF-16 surrogates`;
  return AppError.validation(message, [{ field, message }]);
}

function frameOf(node: Frame['node'], key: string): Frame {
  return { node, keys: Array.isArray(node) ? null : Object.keys(node), next: 0, key };
}

const SEGMENT_LIMIT = 64;

/** Echoed in the answer and the logs: unsafe characters spelled out, long keys cut. */
function pathOf(frames: Frame[], last: string): string {
  return [...frames.map((frame) => frame.key), last]
    .filter((segment, index) => index > 0 || segment !== '')
    .map(printable)
    .join('.');
}

function printable(segment: string): string {
  const cut = segment.length > SEGMENT_LIMIT ? `${segment.slice(0, SEGMENT_LIMIT)}…` : segment;
  return cut.replace(
    // eslint-disable-next-line no-control-regex -- spelling NUL out is the point
    /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
