/** What the worker reads of a Redis server's settings at start (null: could not be read). */
export interface RedisDurability {
  maxmemoryPolicy: string | null;
  aofEnabled: boolean | null;
  /** RDB snapshot schedule (`CONFIG GET save`); '' = none; null when CONFIG is disabled. */
  rdbSave: string | null;
}

/** Parses one section of INFO (`key:value` lines). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

/**
 * BullMQ's guidance for production Redis: `maxmemory-policy noeviction` (an evicted
 * key silently loses or corrupts a job) and persistence (AOF, or at least RDB
 * snapshots), or a restart empties every queue. Returns one warning per problem.
 */
export function durabilityWarnings(settings: RedisDurability): string[] {
  const warnings: string[] = [];
  if (settings.maxmemoryPolicy === null) {
    warnings.push('could not read maxmemory-policy: make sure it is noeviction, or Redis may evict queued jobs under memory pressure');
  } else if (settings.maxmemoryPolicy !== 'noeviction') {
    warnings.push(
      `maxmemory-policy is ${settings.maxmemoryPolicy}, not noeviction: under memory pressure Redis may evict queued jobs (lost usage batches and webhooks)`,
    );
  }
  const snapshots = settings.rdbSave !== null && settings.rdbSave.trim() !== '';
  if (settings.aofEnabled === false && settings.rdbSave === null) {
    warnings.push('Redis has AOF off and its RDB schedule could not be read (CONFIG disabled): queued jobs may not survive a restart');
  } else if (settings.aofEnabled !== true && !snapshots) {
    warnings.push('Redis keeps nothing on disk (no AOF, no RDB snapshots): a restart loses every queued job (usage batches, webhooks)');
  }
  return warnings;
}
