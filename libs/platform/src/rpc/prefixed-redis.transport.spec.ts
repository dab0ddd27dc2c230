import { transportOptions } from './prefixed-redis.transport';

describe('transportOptions', () => {
  it('keeps the ACL user, the percent-decoded password, the database and TLS of a rediss:// URL', () => {
    expect(transportOptions('rediss://latchkey:p%40ss%2Fw0rd@redis.internal:6380/2')).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      username: 'latchkey',
      password: 'p@ss/w0rd',
      db: 2,
      tls: {},
    });
  });

  it('connects in plain text, without credentials, for a bare redis:// URL', () => {
    const options = transportOptions('redis://127.0.0.1');

    expect(options).toMatchObject({ host: '127.0.0.1', port: 6379 });
    expect(options.tls).toBeUndefined();
    expect(options.username).toBeUndefined();
    expect(options.password).toBeUndefined();
  });
});
