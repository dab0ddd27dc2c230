import { IdPrefix, ulidAt } from '@latchkey/ids';

/** A ULID's first 10 characters are its creation time (epoch ms in Crockford base 32). */
const ULID_TIME_CHARS = 10;

/**
 * The lowest id of this kind made at `time` or later: ids are `<prefix>_<ULID>` and a
 * ULID begins with its creation time, so `id < idCreatedBefore(prefix, time)` holds for
 * exactly the rows created before `time`, and the primary key finds them. A pruned row
 * always ends after it was created, so this narrows a prune to a key range with no index
 * of its own.
 */
export function idCreatedBefore(prefix: IdPrefix, time: Date): string {
  return `${prefix}_${ulidAt(time.getTime()).slice(0, ULID_TIME_CHARS)}`;
}
