import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, Observable } from 'rxjs';

import { Page } from '@latchkey/contracts';

import { RAW_RESPONSE } from './raw-response.decorator';

/** Wraps every successful HTTP answer in the spec's envelope; pages add `has_more` and `next_cursor`. */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const raw = this.reflector.getAllAndOverride<boolean>(RAW_RESPONSE, [context.getHandler(), context.getClass()]);
    if (raw) return next.handle();
    return next.handle().pipe(
      map((data: unknown) => {
        if (data instanceof Page) {
          return { success: true, data: data.items, has_more: data.hasMore, next_cursor: data.nextCursor };
        }
        return { success: true, data: data ?? null };
      }),
    );
  }
}
