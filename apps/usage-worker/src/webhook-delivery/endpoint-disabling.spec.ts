import { WebhookDisabledReason } from '@latchkey/db';

import { disablingReason } from './endpoint-disabling';

describe('when a failed attempt disables its endpoint', () => {
  const hour = 3_600_000;
  const at = new Date('2026-12-03T12:00:00Z');
  const ago = (ms: number) => new Date(at.getTime() - ms);

  it('disables at once on a 410 Gone, whatever the failing window', () => {
    expect(disablingReason(410, null, at, 72 * hour)).toBe(WebhookDisabledReason.Gone);
    expect(disablingReason(410, ago(1), at, 72 * hour)).toBe(WebhookDisabledReason.Gone);
  });

  it('disables once the endpoint has been failing for the whole window, not a moment before', () => {
    expect(disablingReason(500, ago(72 * hour), at, 72 * hour)).toBe(WebhookDisabledReason.Failing);
    expect(disablingReason(null, ago(100 * hour), at, 72 * hour)).toBe(WebhookDisabledReason.Failing);
    expect(disablingReason(500, ago(72 * hour - 1), at, 72 * hour)).toBeNull();
  });

  it('never disables on the first failure of a run unless the window is zero', () => {
    expect(disablingReason(500, null, at, 72 * hour)).toBeNull();
    expect(disablingReason(503, null, at, 0)).toBe(WebhookDisabledReason.Failing);
  });
});
