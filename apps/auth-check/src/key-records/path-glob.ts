import { normalEndpointPattern } from '@latchkey/contracts';

/** What an endpoint rule asks of a (normalised) request path. RegExp is one. */
export interface PathMatcher {
  test(path: string): boolean;
}

/** Matches nothing: a pattern that could only ever name an ambiguous path. */
export const NEVER: PathMatcher = /(?!)/;

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

/** A literal as regex source. */
export const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
  const normal = normalEndpointPattern(pattern);
  if (normal === null) return null;
  return normal
    .split(/(\*|\{[^}/]*\})/)
    .filter((text) => text !== '')
    .map((text): Part => (text === '*' ? { kind: 'any' } : /^\{[^}/]*\}$/.test(text) ? { kind: 'segment' } : { kind: 'literal', text }));
}

/** The pattern as one anchored regex; exported so tests can hold the automaton to its meaning. */
export function pathGlobRegExp(parts: Part[]): RegExp {
  const source = parts
    .map((part) => (part.kind === 'any' ? ANY_SEGMENTS : part.kind === 'segment' ? ONE_SEGMENT : escapeRegExp(part.text)))
    .join('');
  const wild = parts.some((part) => part.kind !== 'literal');
  return new RegExp(`^${wild ? NO_DOT_SEGMENT : ''}${source}$`);
}

const SLASH = 0x2f;

/**
 * The same language as pathGlobRegExp, matched as a bit-parallel automaton (shift-and):
 * bit j of the state says "atoms 0..j-1 have matched the path read so far". Each
 * character shifts the state one atom on where that atom takes the character, and keeps
 * it where a wildcard takes it again, so a character costs one pass over the state's
 * 32-bit words whatever the pattern, never a retry.
 */
export class PathGlobAutomaton implements PathMatcher {
  /** Atoms, and so state bits past the start bit. */
  readonly atomCount: number;
  private readonly words: number;
  /** Per literal character: the bits whose atom is that character. */
  private readonly literals = new Map<number, Uint32Array>();
  /** Bits whose atom is `*` (takes a slash only where no empty segment results). */
  private readonly any: Uint32Array;
  /** Bits whose atom is `{name}` (any character but a slash). */
  private readonly segment: Uint32Array;
  private readonly none: Uint32Array;
  private readonly state: Uint32Array;
  private readonly next: Uint32Array;

  constructor(parts: Part[]) {
    const atoms: (number | 'any' | 'segment')[] = [];
    for (const part of parts) {
      if (part.kind === 'literal') for (let i = 0; i < part.text.length; i += 1) atoms.push(part.text.charCodeAt(i));
      else atoms.push(part.kind);
    }
    this.atomCount = atoms.length;
    this.words = Math.ceil((atoms.length + 1) / 32);
    this.any = new Uint32Array(this.words);
    this.segment = new Uint32Array(this.words);
    this.none = new Uint32Array(this.words);
    this.state = new Uint32Array(this.words);
    this.next = new Uint32Array(this.words);
    atoms.forEach((atom, index) => {
      // Atom `index` moves the state from bit `index` to bit `index + 1`.
      const bit = index + 1;
      let mask = atom === 'any' ? this.any : atom === 'segment' ? this.segment : this.literals.get(atom);
      if (!mask) this.literals.set(atom as number, (mask = new Uint32Array(this.words)));
      mask[bit >>> 5] |= 1 << (bit & 31);
    });
  }

  test(path: string): boolean {
    if (DOT_SEGMENT.test(path)) return false;
    const words = this.words;
    // Reused across calls (tests run synchronously): no allocation per check.
    let state = this.state.fill(0);
    let next = this.next;
    state[0] = 1;
    for (let p = 0; p < path.length; p += 1) {
      const char = path.charCodeAt(p);
      const literal = this.literals.get(char) ?? this.none;
      const slash = char === SLASH;
      // `*` takes a slash only where it leaves no empty segment: `(?<!/)/(?!/)`.
      const anyTakes = !slash || (path.charCodeAt(p - 1) !== SLASH && path.charCodeAt(p + 1) !== SLASH);
      let carry = 0;
      let alive = 0;
      for (let w = 0; w < words; w += 1) {
        const wild = (anyTakes ? this.any[w] : 0) | (slash ? 0 : this.segment[w]);
        const current = state[w];
        const word = ((((current << 1) | carry) & (literal[w] | wild)) | (current & wild)) >>> 0;
        carry = current >>> 31;
        next[w] = word;
        alive |= word;
      }
      if (alive === 0) return false;
      [state, next] = [next, state];
    }
    const last = this.atomCount;
    return (state[last >>> 5] & (1 << (last & 31))) !== 0;
  }
}
