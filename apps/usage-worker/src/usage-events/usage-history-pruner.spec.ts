import { USAGE_JOB_OPTIONS } from '@latchkey/contracts';

import { PROCESSED_BATCH_RETENTION_DAYS, usageRedeliveryWindowMs } from './usage-history-pruner.service';

const DAY_MS = 86_400_000;

describe(usageRedeliveryWindowMs.name, () => {
  it('adds up the exponential back-off waits before each retry', () => {
    expect(usageRedeliveryWindowMs({ attempts: 1, backoff: { delay: 1_000 } })).toBe(0);
    expect(usageRedeliveryWindowMs({ attempts: 4, backoff: { delay: 1_000 } })).toBe(1_000 + 2_000 + 4_000);
  });

  it('is well inside how long counted batch ids are remembered, so a redelivered batch is never counted twice', () => {
    // 20 attempts from 1 s: 2^19 - 1 seconds, about six days.
    expect(usageRedeliveryWindowMs(USAGE_JOB_OPTIONS)).toBe((2 ** 19 - 1) * 1_000);
    expect(PROCESSED_BATCH_RETENTION_DAYS * DAY_MS).toBeGreaterThanOrEqual(2 * usageRedeliveryWindowMs(USAGE_JOB_OPTIONS));
  });
});
