import { DeliveryStatus } from '@latchkey/db';

import { AttemptRecord, EndpointHealth, endpointHealthChanges } from './delivery-attempt-log';

function record(endpointId: string, at: number, health: EndpointHealth): AttemptRecord {
  return {
    endpointId,
    attempt: { deliveryId: `del_${at}`, attemptedAt: new Date(at), statusCode: 200, durationMs: 1, responseBody: null, error: null },
    change: { status: DeliveryStatus.Succeeded, nextAttemptAt: null, attemptCount: 1 },
    health,
  };
}

describe(endpointHealthChanges.name, () => {
  it('heals an endpoint whose last attempt of the batch succeeded', () => {
    const changes = endpointHealthChanges([record('whe_a', 2, EndpointHealth.Succeeded), record('whe_a', 1, EndpointHealth.Failed)]);
    expect(changes).toEqual([{ endpointId: 'whe_a', mode: 'heal', failingSince: null }]);
  });

  it('starts a run at the first failure when the batch has no success', () => {
    const changes = endpointHealthChanges([record('whe_a', 5, EndpointHealth.Failed), record('whe_a', 3, EndpointHealth.Failed)]);
    expect(changes).toEqual([{ endpointId: 'whe_a', mode: 'start', failingSince: new Date(3) }]);
  });

  it('restarts the run at the first failure after the last success', () => {
    const changes = endpointHealthChanges([
      record('whe_a', 1, EndpointHealth.Failed),
      record('whe_a', 2, EndpointHealth.Succeeded),
      record('whe_a', 4, EndpointHealth.Failed),
      record('whe_a', 3, EndpointHealth.Failed),
    ]);
    expect(changes).toEqual([{ endpointId: 'whe_a', mode: 'restart', failingSince: new Date(3) }]);
  });

  it('keeps endpoints apart and leaves out attempts that say nothing about health', () => {
    const changes = endpointHealthChanges([
      record('whe_a', 1, EndpointHealth.Succeeded),
      record('whe_b', 2, EndpointHealth.Failed),
      record('whe_c', 3, EndpointHealth.Unchanged),
    ]);
    expect(changes).toEqual([
      { endpointId: 'whe_a', mode: 'heal', failingSince: null },
      { endpointId: 'whe_b', mode: 'start', failingSince: new Date(2) },
    ]);
  });
});
