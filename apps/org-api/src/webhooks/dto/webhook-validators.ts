import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

import { ALL_EVENTS, EVENT_TYPES } from '../webhook-event-catalogue';

export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * `events`: known event types, or `["*"]` alone. Unknown types are refused rather than
 * kept, so a typo never becomes an endpoint that silently receives nothing.
 */
export function IsWebhookEventList(options?: ValidationOptions) {
  return function (target: object, propertyName: string) {
    registerDecorator({
      name: 'isWebhookEventList',
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown): boolean {
          if (!Array.isArray(value) || value.length === 0) return false;
          if (value.includes(ALL_EVENTS)) return value.length === 1;
          return value.every((item) => typeof item === 'string' && (EVENT_TYPES as string[]).includes(item));
        },
        defaultMessage(args: ValidationArguments): string {
          const value = args.value as unknown;
          if (!Array.isArray(value) || value.length === 0) return `${args.property} must be a non-empty list of event types, or ["*"]`;
          if (value.includes(ALL_EVENTS)) return `${args.property}: "*" cannot be combined with other event types`;
          const unknown = value.filter((item) => typeof item !== 'string' || !(EVENT_TYPES as string[]).includes(item));
          return `${args.property} has unknown event types: ${unknown.map((item) => JSON.stringify(item)).join(', ')} (see GET /v1/webhooks/event-types)`;
        },
      },
    });
  };
}
