import { DomainEvent, EventType } from '@latchkey/contracts';

import { buildReminderMail } from './reminder-mail-text';

const CONTEXT = { orgName: 'Acme Payments', publicBaseUrl: 'https://latchkey.example.com/' };
const KEY = { key_id: 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', name: 'Checkout backend', prefix: 'sk_live_', last4: '3f9a' };

function event(type: EventType, data: Record<string, unknown>, environment: 'test' | 'live' | null = 'live'): DomainEvent {
  return { id: 'evt_01JD2Z6K3S9Q4W8E7R5T1Y0U2J', type, created_at: '2026-12-01T12:00:00.000Z', org_id: 'org_1', environment, data };
}

describe(buildReminderMail.name, () => {
  it('writes the expiring reminder: subject with the days left, masked key, environment, org, date, link and opt-out', () => {
    const mail = buildReminderMail(
      event(EventType.ApiKeyExpiring, { ...KEY, expires_at: '2026-12-08T12:00:00.000Z', days_left: 7 }),
      CONTEXT,
    );

    expect(mail?.subject).toBe('Your API key "Checkout backend" expires in 7 days');
    expect(mail?.text).toContain('sk_live_••••••••3f9a');
    expect(mail?.text).toContain(KEY.key_id);
    expect(mail?.text).toMatch(/Environment: +live/);
    expect(mail?.text).toMatch(/Organisation: +Acme Payments/);
    expect(mail?.text).toContain('2026-12-08 12:00 UTC');
    // The trailing slash of PUBLIC_BASE_URL does not double.
    expect(mail?.text).toContain(`https://latchkey.example.com/console/keys/${KEY.key_id}\n`);
    expect(mail?.text).toContain('reminder_emails_enabled: false');
  });

  it('says "1 day", not "1 days"', () => {
    const mail = buildReminderMail(
      event(EventType.ApiKeyExpiring, { ...KEY, expires_at: '2026-12-02T00:00:00.000Z', days_left: 1 }),
      CONTEXT,
    );
    expect(mail?.subject).toBe('Your API key "Checkout backend" expires in 1 day');
  });

  it('writes the expired reminder', () => {
    const mail = buildReminderMail(event(EventType.ApiKeyExpired, { ...KEY, expires_at: '2026-12-08T12:00:00.000Z' }), CONTEXT);
    expect(mail?.subject).toBe('Your API key "Checkout backend" has expired');
    expect(mail?.text).toMatch(/Expired: +2026-12-08 12:00 UTC/);
  });

  it('writes the rotation reminder with the secret age and the policy', () => {
    const mail = buildReminderMail(
      event(EventType.ApiKeyRotationDue, {
        ...KEY,
        created_at: '2026-08-01T00:00:00.000Z',
        secret_rotated_at: '2026-09-01T00:00:00.000Z',
        age_days: 91,
        rotation_policy_days: 90,
      }),
      CONTEXT,
    );
    expect(mail?.subject).toBe('Your API key "Checkout backend" is due for rotation');
    expect(mail?.text).toContain('91 days old');
    expect(mail?.text).toMatch(/Secret age: +91 days \(policy: 90 days\)/);
    expect(mail?.text).toContain('2026-09-01 00:00 UTC');
  });

  it('never carries what an event might wrongly hold besides the masked key: only the fields it names are read', () => {
    const secret = 'sk_live_0123456789abcdefghijABCDEFGHIJklmnop';
    const mail = buildReminderMail(
      event(EventType.ApiKeyExpired, { ...KEY, expires_at: '2026-12-08T12:00:00.000Z', secret, secret_hash: 'deadbeef', token: 'lks_x' }),
      CONTEXT,
    );
    expect(mail).not.toBeNull();
    expect(`${mail?.subject}\n${mail?.text}`).not.toMatch(/0123456789abcdef|deadbeef|lks_x/);
  });

  it('flattens control characters in names, so a key name cannot add header or body lines', () => {
    const mail = buildReminderMail(
      event(EventType.ApiKeyExpired, { ...KEY, name: 'evil\r\nBcc: x@example.com', expires_at: '2026-12-08T12:00:00.000Z' }),
      { ...CONTEXT, orgName: 'Org\nSecond line' },
    );
    expect(mail?.subject).toBe('Your API key "evil Bcc: x@example.com" has expired');
    expect(mail?.text).not.toMatch(/\nBcc:|\nSecond line/);
  });

  it('answers null for other events and for reminders missing what the mail needs', () => {
    expect(buildReminderMail(event(EventType.ApiKeyCreated, KEY), CONTEXT)).toBeNull();
    expect(buildReminderMail(event(EventType.ApiKeyExpiring, { ...KEY, expires_at: '2026-12-08T12:00:00.000Z' }), CONTEXT)).toBeNull();
    expect(buildReminderMail(event(EventType.ApiKeyExpired, { ...KEY, expires_at: 'soon' }), CONTEXT)).toBeNull();
    expect(
      buildReminderMail(event(EventType.ApiKeyExpired, { key_id: KEY.key_id, expires_at: '2026-12-08T12:00:00.000Z' }), CONTEXT),
    ).toBeNull();
  });
});
