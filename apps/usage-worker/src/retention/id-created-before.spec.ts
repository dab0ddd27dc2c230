import { IdPrefix, ulidAt } from '@latchkey/ids';

import { idCreatedBefore } from './id-created-before';

describe(idCreatedBefore.name, () => {
  const time = new Date('2026-11-20T08:30:00.000Z');
  const idAt = (ms: number) => `${IdPrefix.Session}_${ulidAt(ms)}`;
  const sut = idCreatedBefore(IdPrefix.Session, time);

  it('sorts after every id made before the time', () => {
    for (const ms of [time.getTime() - 1, time.getTime() - 86_400_000, Date.UTC(2020, 0, 1)]) expect(idAt(ms) < sut).toBe(true);
  });

  it('sorts before every id made at the time or later', () => {
    for (const ms of [time.getTime(), time.getTime() + 1, Date.UTC(2030, 0, 1)]) expect(idAt(ms) < sut).toBe(false);
  });
});
