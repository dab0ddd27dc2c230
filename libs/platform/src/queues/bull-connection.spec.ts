import { queuePrefix } from './bull-connection';

function config(prefix: string, nodes?: string) {
  return {
    get: (key: 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PREFIX') =>
      ({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: nodes, REDIS_PREFIX: prefix })[key],
  };
}

describe('queuePrefix', () => {
  it('keeps the single-node prefix every deployment has used', () => {
    expect(queuePrefix(config('lk'), 'usage-events')).toBe('lk:bull');
  });

  it("puts each queue under its own hash tag on a cluster, so a queue's keys share a slot and the queues spread", () => {
    expect(queuePrefix(config('lk', '10.0.0.1:7000'), 'usage-events')).toBe('lk:bull:{usage-events}');
    expect(queuePrefix(config('lk', '10.0.0.1:7000'), 'domain-events')).toBe('lk:bull:{domain-events}');
  });

  it('leaves a prefix with its own hash tag alone: the operator chose one shard for everything', () => {
    expect(queuePrefix(config('{lk}', '10.0.0.1:7000'), 'usage-events')).toBe('{lk}:bull');
  });
});
