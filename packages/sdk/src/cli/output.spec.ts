import { record, table } from './output';

describe('table', () => {
  it('pads every column to its widest cell, with an upper-case header', () => {
    const text = table(
      [
        { id: 'key_1', name: 'Checkout backend', permissions: ['a:read', 'b:write'] },
        { id: 'key_22', name: null, permissions: [] },
      ],
      ['id', 'name', 'permissions'],
    );
    expect(text).toBe(
      ['ID      NAME              PERMISSIONS', 'key_1   Checkout backend  a:read,b:write', 'key_22  -                 -', ''].join('\n'),
    );
  });

  it('prints only the header for no rows', () => {
    expect(table([], ['id', 'status'])).toBe('ID  STATUS\n');
  });
});

describe('record', () => {
  it('prints one field a line, objects as JSON', () => {
    expect(record({ id: 'key_1', quota: { limit: 5 }, signing: false }, ['id', 'signing', 'quota'])).toBe(
      'id       key_1\nsigning  false\nquota    {"limit":5}\n',
    );
  });
});
