import {
  DEFAULT_ORGANIZATION_SETTINGS,
  reminderEmailsEnabled,
  REQUEST_LOG_RETENTION_MAX_DAYS,
  requestLogRetentionDays,
} from './organization.entity';

describe(requestLogRetentionDays.name, () => {
  it('answers the organisation’s own days for the environment, else the default', () => {
    const settings = { ...DEFAULT_ORGANIZATION_SETTINGS, request_log_retention_test_days: 3, request_log_retention_live_days: null };

    expect(requestLogRetentionDays(settings, 'test', 7)).toBe(3);
    expect(requestLogRetentionDays(settings, 'live', 90)).toBe(90);
  });

  it('treats settings stored before the setting existed, or junk in it, as no setting', () => {
    expect(requestLogRetentionDays({ rotation_policy_days: 90 }, 'test', 7)).toBe(7);
    expect(requestLogRetentionDays(null, 'live', 90)).toBe(90);
    expect(requestLogRetentionDays({ request_log_retention_live_days: 0 }, 'live', 90)).toBe(90);
    expect(requestLogRetentionDays({ request_log_retention_live_days: 1.5 }, 'live', 90)).toBe(90);
  });

  it('caps a stored value at the most the worker keeps, as its SQL does', () => {
    expect(requestLogRetentionDays({ request_log_retention_live_days: 5_000 }, 'live', 90)).toBe(REQUEST_LOG_RETENTION_MAX_DAYS);
  });
});

describe(reminderEmailsEnabled.name, () => {
  it('is on by default, and for settings stored before the setting existed', () => {
    expect(reminderEmailsEnabled(DEFAULT_ORGANIZATION_SETTINGS)).toBe(true);
    expect(reminderEmailsEnabled({ rotation_policy_days: 90 })).toBe(true);
    expect(reminderEmailsEnabled(null)).toBe(true);
  });

  it('is off only when turned off', () => {
    expect(reminderEmailsEnabled({ ...DEFAULT_ORGANIZATION_SETTINGS, reminder_emails_enabled: false })).toBe(false);
  });
});
