import { DomainEvent, EventType } from '@latchkey/contracts';
import { maskApiKey } from '@latchkey/crypto';
import { oneLine } from '@latchkey/mailer';

export interface ReminderMailContext {
  orgName: string;
  /** PUBLIC_BASE_URL: where the console is served. */
  publicBaseUrl: string;
}

export interface ReminderMailText {
  subject: string;
  text: string;
}

/** What a reminder's mail names, its flattened free-text fields included. */
interface ReminderSubject {
  data: Record<string, unknown>;
  name: string;
  orgName: string;
  environment: string;
}

/** The parts that differ per reminder type; null when the event lacks what they need. */
interface ReminderParts {
  subject: string;
  lead: string;
  advice: string;
  details: [string, string][];
}

const PARTS: Record<string, (reminder: ReminderSubject) => ReminderParts | null> = {
  [EventType.ApiKeyExpiring]: ({ data, name, orgName, environment }) => {
    const expiresAt = instant(data.expires_at);
    const daysLeft = typeof data.days_left === 'number' && data.days_left > 0 ? Math.round(data.days_left) : null;
    if (!expiresAt || !daysLeft) return null;
    const days = daysLeft === 1 ? '1 day' : `${daysLeft} days`;
    return {
      subject: `Your API key "${name}" expires in ${days}`,
      lead: `The ${environment} API key "${name}" of ${orgName} expires in ${days}, at ${readable(expiresAt)}.`,
      advice:
        'From then on every request made with it is refused (EXPIRED). To keep it working, extend its expiry, ' +
        'or create a replacement and move your integration to it before then:',
      details: [['Expires', readable(expiresAt)]],
    };
  },
  [EventType.ApiKeyExpired]: ({ data, name, orgName, environment }) => {
    const expiresAt = instant(data.expires_at);
    if (!expiresAt) return null;
    return {
      subject: `Your API key "${name}" has expired`,
      lead: `The ${environment} API key "${name}" of ${orgName} expired at ${readable(expiresAt)}.`,
      advice:
        'Every request made with it is now refused (EXPIRED). If something still depends on it, extend its expiry ' +
        'or create a replacement:',
      details: [['Expired', readable(expiresAt)]],
    };
  },
  [EventType.ApiKeyRotationDue]: ({ data, name, orgName, environment }) => {
    const ageDays = typeof data.age_days === 'number' ? Math.floor(data.age_days) : null;
    const policyDays = typeof data.rotation_policy_days === 'number' ? data.rotation_policy_days : null;
    const rotatedAt = instant(data.secret_rotated_at);
    if (ageDays === null || policyDays === null || !rotatedAt) return null;
    return {
      subject: `Your API key "${name}" is due for rotation`,
      lead:
        `The secret of the ${environment} API key "${name}" of ${orgName} is ${ageDays} days old; ` +
        `the organisation's rotation policy is ${policyDays} days.`,
      advice:
        'Roll the key to issue a new secret (the old one keeps working for the overlap you choose, so you can ' +
        'deploy the new one first):',
      details: [
        ['Secret issued', readable(rotatedAt)],
        ['Secret age', `${ageDays} days (policy: ${policyDays} days)`],
      ],
    };
  },
};

/**
 * The reminder events that are also mailed (docs/api-conventions.md#usage-logs-and-alerts); every
 * other event type goes by webhook only.
 */
export const MAILED_REMINDER_TYPES: ReadonlySet<string> = new Set(Object.keys(PARTS));

/**
 * The plain-text mail of one reminder event, or null for an event that is not a
 * mailed reminder or lacks what the mail needs. Built only from the event's data,
 * which names the key by prefix and last four characters: the secret (and its hash)
 * is never in an event, and no other field is read, so neither can reach a mail.
 */
export function buildReminderMail(event: DomainEvent, context: ReminderMailContext): ReminderMailText | null {
  const build = Object.hasOwn(PARTS, event.type) ? PARTS[event.type] : undefined;
  const data = event.data;
  const keyId = text(data.key_id);
  const prefix = text(data.prefix);
  const last4 = text(data.last4);
  if (!build || !keyId || !prefix || !last4) return null;
  const name = oneLine(text(data.name) ?? keyId);
  const orgName = oneLine(context.orgName);
  const environment = event.environment ?? (prefix.includes('_live_') ? 'live' : 'test');
  const parts = build({ data, name, orgName, environment });
  if (!parts) return null;

  const details: [string, string][] = [
    ['Key', `${name} (${keyId})`],
    ['Secret', maskApiKey(prefix, last4)],
    ['Environment', environment],
    ['Organisation', orgName],
    ...parts.details,
  ];
  const width = Math.max(...details.map(([label]) => label.length)) + 2;
  const link = `${context.publicBaseUrl.replace(/\/+$/, '')}/console/keys/${encodeURIComponent(keyId)}`;
  const body = [
    parts.lead,
    '',
    ...details.map(([label, value]) => `  ${`${label}:`.padEnd(width)}${value}`),
    '',
    parts.advice,
    link,
    '',
    '--',
    `You receive this because you created this key or are an owner or admin of ${orgName}.`,
    "An owner or admin can turn these emails off in the organisation's settings (reminder_emails_enabled: false);",
    'the webhook events are sent either way.',
    '',
  ];
  return { subject: parts.subject, text: body.join('\n') };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function instant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `2026-12-08 12:00 UTC`: unambiguous for readers anywhere. */
function readable(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
