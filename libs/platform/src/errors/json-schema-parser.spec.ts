import { AppError } from './app-error';
import { jsonSchemaParser } from './json-schema-parser';

const parse = jsonSchemaParser<{ id: string; count?: number }>(
  {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^x_[0-9]+$' }, count: { type: 'integer', minimum: 1 } },
  },
  { id: 'id must be an x_ id', body: 'send an object' },
);

function refusal(payload: unknown): AppError {
  try {
    parse(payload);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the payload was accepted');
}

describe('jsonSchemaParser', () => {
  it('answers a valid payload as it is', () => {
    const payload = { id: 'x_1', count: 2 };
    expect(parse(payload)).toBe(payload);
  });

  it('never coerces a type: a number where a string is due is refused', () => {
    expect(refusal({ id: 1 })).toMatchObject({ code: 'VALIDATION_FAILED', kind: 'validation' });
    expect(refusal({ id: 'x_1', count: '2' }).details).toEqual([{ field: 'count', message: 'count must be integer' }]);
  });

  it('uses the given message for a field whose value is wrong, and for the payload as a whole', () => {
    expect(refusal({ id: 'y_1' })).toMatchObject({
      message: 'id must be an x_ id',
      details: [{ field: 'id', message: 'id must be an x_ id' }],
    });
    expect(refusal('x_1')).toMatchObject({ message: 'send an object', details: [{ field: 'body', message: 'send an object' }] });
  });

  it('says a field is missing or unknown, whatever message the field has', () => {
    expect(refusal({})).toMatchObject({ message: 'id is required', details: [{ field: 'id', message: 'id is required' }] });
    expect(refusal({ id: 'x_1', org: 'o' })).toMatchObject({ message: 'org is not a known field' });
  });
});
