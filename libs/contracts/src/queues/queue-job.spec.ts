import { DomainEvent, EventType } from '../events/event-types';
import { domainEventJob, EVENTS_JOB, EVENTS_JOB_OPTIONS } from '../events/events.queue';
import { USAGE_BATCH_JOB, USAGE_JOB_OPTIONS, usageBatchJob, usageBatchOf } from '../usage/usage-events.queue';
import {
  WEBHOOK_DELIVERY_JOB,
  WEBHOOK_DELIVERY_JOB_OPTIONS,
  webhookDeliveryAttemptOf,
  webhookDeliveryJob,
} from '../webhooks/webhook-deliveries.queue';

describe('job builders', () => {
  it('names a usage batch job by its batch id, with the usage retry strategy', () => {
    const batch = usageBatchOf('01JBATCH', []);

    expect(usageBatchJob(batch)).toEqual({ name: USAGE_BATCH_JOB, data: batch, opts: { ...USAGE_JOB_OPTIONS, jobId: '01JBATCH' } });
    expect(USAGE_JOB_OPTIONS).toMatchObject({ attempts: 20, backoff: { type: 'exponential', delay: 1_000 }, removeOnFail: false });
  });

  it('names a domain event job by the event id, with the events retry strategy', () => {
    const event = { id: 'evt_1', type: EventType.ApiKeyCreated, org_id: 'org_1', data: {} } as unknown as DomainEvent;

    expect(domainEventJob(event)).toEqual({ name: EVENTS_JOB, data: event, opts: { ...EVENTS_JOB_OPTIONS, jobId: 'evt_1' } });
  });

  it('names a delivery job by its attempt, due at once unless delayed', () => {
    const first = webhookDeliveryJob('dlv_1', 1);
    const later = webhookDeliveryJob('dlv_1', 3, 1_499.6);

    expect(first).toEqual({
      name: WEBHOOK_DELIVERY_JOB,
      data: { delivery_id: 'dlv_1' },
      opts: { ...WEBHOOK_DELIVERY_JOB_OPTIONS, jobId: 'dlv_1-a1' },
    });
    expect(first.opts).not.toHaveProperty('delay');
    expect(later.opts).toMatchObject({ jobId: 'dlv_1-a3', delay: 1_500 });
    expect(webhookDeliveryAttemptOf(later.opts.jobId)).toBe(3);
    expect(webhookDeliveryJob('dlv_1', 2, -50).opts).not.toHaveProperty('delay');
  });

  it('builds the same job for the same attempt, whoever asks', () => {
    expect(webhookDeliveryJob('dlv_9', 2)).toEqual(webhookDeliveryJob('dlv_9', 2));
  });
});
