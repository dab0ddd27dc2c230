import { durabilityWarnings } from './redis-durability';

describe(durabilityWarnings.name, () => {
  it('decides the warnings from the settings: noeviction with AOF or RDB is quiet, anything else warns', () => {
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: true, rdbSave: '' })).toEqual([]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: '3600 1' })).toEqual([]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'allkeys-lru', aofEnabled: true, rdbSave: '' })).toEqual([
      expect.stringMatching(/allkeys-lru, not noeviction/),
    ]);
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: '' })).toEqual([
      expect.stringMatching(/keeps nothing on disk/),
    ]);
    // CONFIG disabled (managed Redis): AOF off and the RDB schedule unknown still warns, without failing.
    expect(durabilityWarnings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSave: null })).toEqual([
      expect.stringMatching(/could not be read/),
    ]);
  });
});
