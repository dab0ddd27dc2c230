import { findInputProblem, MAX_JSON_DEPTH, refuseHostileInput } from './hostile-input';

/** The path of the first string Postgres cannot store, '' for `value` itself, or null. */
const findUnsafeString = (value: unknown) => findInputProblem(value)?.path ?? null;

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('findInputProblem: strings Postgres cannot store', () => {
  it('names the first NUL or unpaired surrogate, in values and key names, at any depth', () => {
    expect(findUnsafeString({ name: 'ok', metadata: { tags: ['fine', 'x\u0000'] } })).toBe('metadata.tags.1');
    expect(findUnsafeString({ metadata: { ['k\u0000']: 1 } })).toBe('metadata.k\\u0000');
    expect(findUnsafeString({ search: '\ud800x' })).toBe('search');
    expect(findUnsafeString('\udc00')).toBe('');
  });

  it('passes well-formed text, paired surrogates included', () => {
    expect(findUnsafeString({ name: 'emoji 😀', list: [1, null, true, 'é'] })).toBeNull();
    expect(findUnsafeString(undefined)).toBeNull();
  });
});

describe('refuseHostileInput', () => {
  it('refuses nesting past MAX_JSON_DEPTH, however deep, without overflowing the stack', () => {
    expect(refuseHostileInput(nested(MAX_JSON_DEPTH), 'body')).toBeNull();
    expect(refuseHostileInput(nested(MAX_JSON_DEPTH + 1), 'body')).toMatchObject({ code: 'VALIDATION_FAILED', kind: 'validation' });
    expect(findInputProblem(nested(200_000), MAX_JSON_DEPTH)?.kind).toBe('depth');
    expect(findInputProblem(nested(200_000))).toBeNull();
  });

  it('answers VALIDATION_FAILED naming the field', () => {
    expect(refuseHostileInput({ org_name: 'a\u0000' }, 'body')?.details).toEqual([
      { field: 'org_name', message: 'org_name must not contain NUL characters or unpaired UTF-16 surrogates' },
    ]);
  });
});
