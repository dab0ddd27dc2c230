import { redactSecrets } from './redact-secrets';

describe('redactSecrets', () => {
  it('drops secret fields at any depth and keeps the rest', () => {
    const sut = redactSecrets({
      name: 'ci',
      secret: 'sk_test_x',
      nested: { password_hash: 'h', token: 't', role: 'admin', list: [{ key: 'k', note: 'n' }] },
      at: new Date('2026-01-01T00:00:00Z'),
    });
    expect(sut).toEqual({ name: 'ci', nested: { role: 'admin', list: [{ note: 'n' }] }, at: '2026-01-01T00:00:00.000Z' });
  });
});
