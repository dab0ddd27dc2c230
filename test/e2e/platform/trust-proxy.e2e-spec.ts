import { TestApp } from '../../support/create-test-app';
import { LogCapture } from '../../support/log-capture';

/**
 * TRUST_PROXY=true believes the left-most X-Forwarded-For entry, which the client
 * writes: the start says so, loudly, and names the safer form.
 */
describe('TRUST_PROXY at start', () => {
  const startWith = async (trustProxy: string) => {
    const logs = new LogCapture();
    const sut = await TestApp.start({ logs, config: { TARGET: 'auth-check', TRUST_PROXY: trustProxy, LOG_LEVEL: 'warn' } });
    await sut.close();
    return logs.entries().filter((entry) => String(entry.msg).includes('TRUST_PROXY'));
  };

  it('warns that `true` lets any client spoof its address, and recommends a list of proxies', async () => {
    const warnings = await startWith('true');
    expect(warnings).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringMatching(/spoof.*addresses or CIDRs of your proxies/) }),
    ]);
  });

  it.each(['false', '127.0.0.1,10.0.0.0/8'])('does not warn for TRUST_PROXY=%s', async (trustProxy) => {
    expect(await startWith(trustProxy)).toEqual([]);
  });
});
