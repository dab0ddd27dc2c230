import { hasDotSegment, normalizePercentEncoding } from './request-path';

/** What an endpoint rule asks of a (normalised) request path. RegExp is one. */
export interface PathMatcher {
  test(path: string): boolean;
}

/** Matches nothing: a pattern that could only ever name an ambiguous path. */
const NEVER: PathMatcher = /(?!)/;

/**
 * What `*` matches: one or more characters across segments, but never an empty
 * segment (no slash it takes touches another slash; it may end the path), so
 * `/v1/files/*` covers `/v1/files/a/b.txt` and `/v1/files/a/`, not `/v1/files//`
 * nor `/v1/files/` itself.
 */
const ANY_SEGMENTS = '(?:(?<!/)/(?!/)|[^/])+';
/** What `{name}` matches: a segment or part of one, never empty. */
const ONE_SEGMENT = '[^/]+';
/**
 * A wildcard never stands for a `.` or `..` segment (nor `..;x`): paths are
 * normalised before they are matched (request-path.ts), and this holds even if
 * one were not, so `/v1/items/{id}` can never match `/v1/items/..`.
 */
const NO_DOT_SEGMENT = '(?![\\s\\S]*/\\.\\.?(?:[/;]|$))';
const DOT_SEGMENT = /\/\.\.?(?:[/;]|$)/;

const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Part = { kind: 'literal'; text: string } | { kind: 'any' } | { kind: 'segment' };

/**
 * An endpoint path pattern: `*` matches one or more characters across segments
 * (`/v1/payments/*` covers `/v1/payments/p_1/refunds`), `{name}` exactly one segment.
 * The pattern's escapes are normalised as a request path's are (`%7E` is `~`); a
 * pattern with a dot segment or an escape no normalised path can hold matches nothing.
 *
 * A pattern with one wildcard is a regex (V8's is fastest there, and one quantifier
 * backtracks at most linearly). With two or more, a backtracking regex takes time
 * polynomial in the path's length to the power of the wildcard count — `/*a*a*a*a*b`
 * against a 200-character path blocked the process for a minute, so one tenant's key
 * could stall every tenant's checks — and the pattern runs on PathGlobAutomaton,
 * which takes time linear in the path for any pattern.
 */
export function compilePathGlob(pattern: string): PathMatcher {
  const parts = parsePathGlob(pattern);
  if (parts === null) return NEVER;
  const wildcards = parts.filter((part) => part.kind !== 'literal').length;
  return wildcards <= 1 ? pathGlobRegExp(parts) : new PathGlobAutomaton(parts);
}

/** The pattern's literal text and wildcards; null when it can name no normalised path. */
export function parsePathGlob(pattern: string): Part[] | null {
  const normal = normalizePercentEncoding(pattern);
  if (normal === null || normal.includes('\\') || hasDotSegment(normal)) return null;
  return normal
    .split(/(\*|\{[^}/]*\})/)
    .filter((text) => text !== '')
    .map((text): Part => (text === '*' ? { kind: 'any' } : /^\{[^}/]*\}$/.test(text) ? { kind: 'segment' } : { kind: 'literal', text }));
}

/** The pattern as one anchored regex; exported so tests can hold the automaton to its meaning. */
export function pathGlobRegExp(parts: Part[]): RegExp {
  const source = parts
    .map((part) => (part.kind === 'any' ? ANY_SEGMENTS : part.kind === 'segment' ? ONE_SEGMENT : escape(part.text)))
    .join('');
  const wild = parts.some((part) => part.kind !== 'literal');
  return new RegExp(`^${wild ? NO_DOT_SEGMENT : ''}${source}$`);
}

const SLASH = 0x2f;
/** Atom codes below zero are wildcards; others are the UTF-16 code unit a literal must be. */
const ANY = -1;
const SEGMENT = -2;

/**
 * The same language as pathGlobRegExp, matched by simulating its automaton: every
 * position of the pattern that the path read so far can have reached is kept at
 * once, so each character of the path costs one pass over the pattern, never a
 * retry. For atom i, `before[i]` means atoms 0..i-1 matched up to here, and
 * `inside[i]` (wildcards only) that atom i has taken at least one character and may
 * take more or end.
 */
export class PathGlobAutomaton implements PathMatcher {
  private readonly atoms: Int32Array;

  constructor(parts: Part[]) {
    const atoms: number[] = [];
    for (const part of parts) {
      if (part.kind === 'any') atoms.push(ANY);
      else if (part.kind === 'segment') atoms.push(SEGMENT);
      else for (let i = 0; i < part.text.length; i += 1) atoms.push(part.text.charCodeAt(i));
    }
    this.atoms = Int32Array.from(atoms);
  }

  test(path: string): boolean {
    if (DOT_SEGMENT.test(path)) return false;
    const atoms = this.atoms;
    const count = atoms.length;
    let before = new Uint8Array(count + 1);
    let inside = new Uint8Array(count);
    let nextBefore = new Uint8Array(count + 1);
    let nextInside = new Uint8Array(count);
    before[0] = 1;
    for (let p = 0; p < path.length; p += 1) {
      const char = path.charCodeAt(p);
      // `*` takes a slash only where it leaves no empty segment: `(?<!/)/(?!/)`.
      const anyTakes = char !== SLASH || (path.charCodeAt(p - 1) !== SLASH && path.charCodeAt(p + 1) !== SLASH);
      nextBefore.fill(0);
      nextInside.fill(0);
      let alive = false;
      for (let i = 0; i < count; i += 1) {
        const atom = atoms[i];
        if (atom >= 0) {
          if (before[i] && char === atom) nextBefore[i + 1] = 1;
        } else if ((before[i] || inside[i]) && (atom === ANY ? anyTakes : char !== SLASH)) {
          nextInside[i] = 1;
          // Having taken a character, the wildcard may end here too.
          nextBefore[i + 1] = 1;
        }
        alive ||= nextBefore[i + 1] === 1 || nextInside[i] === 1;
      }
      if (!alive) return false;
      [before, nextBefore] = [nextBefore, before];
      [inside, nextInside] = [nextInside, inside];
    }
    return before[count] === 1;
  }
}
