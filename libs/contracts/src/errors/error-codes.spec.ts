import { VERIFY_CODES, VerifyCode } from '../auth-check/verify-codes';
import { CheckRefusals, ErrorCodeEntry, ErrorCodes, ErrorKind, isErrorCode, STATUS_FOR_KIND } from './error-codes';

const tables: [string, Record<string, ErrorCodeEntry>][] = [
  ['ErrorCodes', ErrorCodes],
  ['CheckRefusals', CheckRefusals],
];

describe.each(tables)('%s', (_, table) => {
  const entries = Object.entries(table);

  it('names every code in UPPER_SNAKE_CASE', () => {
    expect(entries.map(([code]) => code).filter((code) => !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(code))).toEqual([]);
  });

  it("gives every code a known kind and that kind's status", () => {
    const kinds: readonly string[] = Object.values(ErrorKind);
    for (const [code, entry] of entries) {
      expect({ code, known: kinds.includes(entry.kind), status: entry.status }).toEqual({
        code,
        known: true,
        status: STATUS_FOR_KIND[entry.kind],
      });
    }
  });

  it('describes every code in one sentence', () => {
    for (const [code, entry] of entries) {
      expect({ code, description: entry.description }).toEqual({ code, description: expect.stringMatching(/^[A-Z][^\n|]*\.$/) });
    }
  });
});

describe('ErrorCodes', () => {
  it('has a code of every kind, so every status the API answers is in the table', () => {
    const used = new Set(Object.values(ErrorCodes).map((entry) => entry.kind));
    expect(Object.values(ErrorKind).filter((kind) => !used.has(kind))).toEqual([]);
  });

  it('answers only with statuses that are errors', () => {
    expect(Object.values(STATUS_FOR_KIND).filter((status) => status < 400 || status > 599)).toEqual([]);
  });

  it('tells its own codes from anything else', () => {
    expect(isErrorCode('EMAIL_TAKEN')).toBe(true);
    expect(isErrorCode('email_taken')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
  });
});

describe('CheckRefusals', () => {
  it('has exactly the verdict codes that refuse a key', () => {
    expect(Object.keys(CheckRefusals).sort()).toEqual(VERIFY_CODES.filter((code) => code !== VerifyCode.Valid).sort());
  });

  it('answers 401, 403 or 429, as gateways expect from forward auth', () => {
    expect([...new Set(Object.values(CheckRefusals).map((entry) => entry.status))].sort()).toEqual([401, 403, 429]);
  });

  it('uses a code the error table has only with the same meaning, except NOT_FOUND (an unknown key, 401)', () => {
    const shared = Object.keys(CheckRefusals).filter(isErrorCode);
    const differing = shared.filter((code) => CheckRefusals[code as keyof typeof CheckRefusals].kind !== ErrorCodes[code].kind);
    expect({ shared: shared.sort(), differing }).toEqual({ shared: ['NOT_FOUND', 'RATE_LIMITED'], differing: ['NOT_FOUND'] });
  });
});
