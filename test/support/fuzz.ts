/**
 * What the schema-driven fuzz tests send: values that fit a JSON schema well enough to
 * get past the first checks, mixed with hostile ones (NUL bytes, lone surrogates,
 * huge and odd numbers, wrong types, deep nesting). Every choice comes from one seeded
 * generator, so a failing run replays exactly from the seed it prints.
 */

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)];
  }
}

export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udfffy',
  '😀\ud83d',
  '\u202eevil',
  'x'.repeat(5_000),
  '%00',
  '%E0%A4%A',
  '../../etc/passwd',
  '/v1/public/%2e%2e/admin',
  "' OR 1=1 --",
  '"; drop table users; --',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  'null',
  '-1',
  '1e309',
  'NaN',
  '2026-13-45T99:99:99Z',
  'key_00000000000000000000000000',
  'sk_test_' + 'A'.repeat(38),
  '__proto__',
  'http://169.254.169.254/latest/meta-data',
  'http://[::1]/',
  'café 東京',
];

export const HOSTILE_NUMBERS: readonly number[] = [-1, 0, 1.5, -0.000001, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE];

/** Values of the wrong type for any field. */
export const WRONG_TYPES: readonly unknown[] = [
  null,
  true,
  [],
  {},
  123,
  'text',
  [[[[[]]]]],
  { __proto__: { admin: true } },
  { constructor: { prototype: { admin: true } } },
];

/** Resolves `$ref`s against an OpenAPI document's components. */
export type SchemaResolver = (schema: Schema) => Schema;
export interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  example?: unknown;
  nullable?: boolean;
}

export function refResolver(document: { components?: { schemas?: Record<string, Schema> } }): SchemaResolver {
  return function resolve(schema: Schema): Schema {
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      return resolve(document.components?.schemas?.[name] ?? {});
    }
    if (schema.allOf?.length) {
      const merged: Schema = { type: 'object', properties: {}, required: [] };
      for (const part of schema.allOf.map(resolve)) {
        Object.assign(merged.properties!, part.properties ?? {});
        merged.required!.push(...(part.required ?? []));
        if (part.type && part.type !== 'object') return part;
      }
      return merged;
    }
    return schema;
  };
}

/** A value shaped by the schema, hostile in some places (`hostility`: the chance per field). */
export function valueFor(schema: Schema, resolve: SchemaResolver, random: SeededRandom, hostility: number, depth = 0): unknown {
  const resolved = resolve(schema);
  if (random.chance(hostility)) return hostileValue(resolved, random);
  const variants = resolved.oneOf ?? resolved.anyOf;
  if (variants?.length) return valueFor(random.pick(variants), resolve, random, hostility, depth + 1);
  if (resolved.enum?.length) return random.pick(resolved.enum);
  if (resolved.example !== undefined && random.chance(0.5)) return resolved.example;
  switch (resolved.type ?? 'object') {
    case 'string':
      return plausibleString(resolved, random);
    case 'integer':
      return (resolved.minimum ?? 1) + random.int(10);
    case 'number':
      return (resolved.minimum ?? 0) + random.next() * 100;
    case 'boolean':
      return random.chance(0.5);
    case 'array': {
      if (depth > 4) return [];
      const length = random.int(4);
      return Array.from({ length }, () => valueFor(resolved.items ?? {}, resolve, random, hostility, depth + 1));
    }
    default: {
      if (depth > 4) return {};
      const value: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(resolved.properties ?? {})) {
        if (resolved.required?.includes(name) || random.chance(0.6)) {
          value[name] = valueFor(property, resolve, random, hostility, depth + 1);
        }
      }
      // An arbitrary object (metadata, settings) gets hostile keys of its own.
      if (!resolved.properties || random.chance(0.1)) value[random.pick(HOSTILE_STRINGS).slice(0, 100)] = random.pick(HOSTILE_STRINGS);
      return value;
    }
  }
}

function plausibleString(schema: Schema, random: SeededRandom): string {
  switch (schema.format ?? '') {
    case 'email':
      return `fuzz-${random.int(1e9)}@example.com`;
    case 'date-time':
      return new Date(Date.now() + random.int(30) * 86_400_000).toISOString();
    case 'uri':
      return 'https://example.com/hook';
  }
  const length = Math.max(schema.minLength ?? 1, Math.min(schema.maxLength ?? 12, 12));
  return 'f'.repeat(length);
}

function hostileValue(schema: Schema, random: SeededRandom): unknown {
  const roll = random.next();
  if (roll < 0.15) return random.pick(WRONG_TYPES);
  if (schema.type === 'integer' || schema.type === 'number') {
    return roll < 0.6 ? random.pick(HOSTILE_NUMBERS) : random.pick(HOSTILE_STRINGS);
  }
  if (schema.type === 'array') return roll < 0.5 ? [random.pick(HOSTILE_STRINGS)] : Array.from({ length: 500 }, () => 'x');
  return random.pick(HOSTILE_STRINGS);
}

/** JSON nested `depth` levels deep, as text (JSON.stringify itself would overflow first). */
export function deeplyNested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/**
 * Percent-encodes a value for a URL. A lone surrogate has no UTF-8 form (encodeURIComponent
 * throws), so it goes as the bytes a careless client would send: an encoded surrogate,
 * which is not valid UTF-8 either.
 */
export function encodeHostile(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return Array.from(value, (char) => {
      try {
        return encodeURIComponent(char);
      } catch {
        return '%ED%A0%80';
      }
    }).join('');
  }
}
