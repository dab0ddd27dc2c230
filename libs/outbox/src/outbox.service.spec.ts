import { EventType } from '@latchkey/contracts';

import { NewDomainEvent } from './outbox.service';

describe('NewDomainEvent', () => {
  it("takes the data its type's contract describes, and refuses another type's", () => {
    const test: NewDomainEvent = { orgId: 'org_x', type: EventType.WebhookTest, data: { endpoint_id: 'whe_x' } };
    const disabled: NewDomainEvent = {
      orgId: 'org_x',
      environment: 'live',
      type: EventType.WebhookEndpointDisabled,
      data: { endpoint_id: 'whe_x', url: 'https://hooks.example.com', reason: 'gone' },
    };
    // @ts-expect-error webhook.test's data is {endpoint_id}, not a member
    const wrongData: NewDomainEvent = { orgId: 'org_x', type: EventType.WebhookTest, data: { user_id: 'usr_x' } };
    // @ts-expect-error a field no contract names: subscribers would get an undocumented field
    const extra: NewDomainEvent = { orgId: 'org_x', type: EventType.WebhookTest, data: { endpoint_id: 'whe_x', secret: 'whsec_x' } };
    expect([test, disabled, wrongData, extra].map((event) => event.type)).toEqual([
      EventType.WebhookTest,
      EventType.WebhookEndpointDisabled,
      EventType.WebhookTest,
      EventType.WebhookTest,
    ]);
  });
});
