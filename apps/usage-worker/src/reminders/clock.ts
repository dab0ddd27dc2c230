import { Injectable } from '@nestjs/common';

/**
 * "Now" for the worker's time rules (reminders, quota periods, alert times). Injected
 * rather than read with `new Date()` so tests can move time (replace `now` on the
 * app's instance) instead of waiting real days.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
