import { BadRequestException, NotFoundException } from '@nestjs/common';

import { ErrorKind } from '@latchkey/contracts';

import { AppError } from './app-error';
import { toAppError } from './to-app-error';

describe('toAppError', () => {
  it('keeps AppErrors as they are', () => {
    const error = new AppError('LIVE_MODE_NOT_ENABLED', 'no');
    expect(toAppError(error)).toBe(error);
  });

  it('maps a unique-index race to a 409', () => {
    expect(toAppError(Object.assign(new Error('duplicate key'), { code: '23505' }))?.kind).toBe(ErrorKind.Conflict);
  });

  it('maps connection failures to a 503', () => {
    expect(toAppError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))?.kind).toBe(
      ErrorKind.Unavailable,
    );
  });

  it('maps Nest HTTP exceptions by status and invalid JSON to INVALID_JSON', () => {
    expect(toAppError(new NotFoundException('Cannot GET /x'))?.code).toBe('NOT_FOUND');
    expect(toAppError(new BadRequestException('Body is not valid JSON'))?.code).toBe('INVALID_JSON');
  });

  it('leaves unknown errors to become a 500', () => {
    expect(toAppError(new TypeError('x is undefined'))).toBeNull();
  });
});

describe('toAppError for Postgres data exceptions', () => {
  it('maps SQLSTATE class 22 to a 400 that names no SQL', () => {
    const error = Object.assign(new Error(`insert into "users" ("name") values ('secret') - value too long`), {
      code: '22001',
      severity: 'ERROR',
    });
    const mapped = toAppError(error);
    expect(mapped?.kind).toBe(ErrorKind.Validation);
    expect(mapped?.message).not.toContain('insert');
    expect(toAppError(Object.assign(new Error('x'), { code: '22P02', severity: 'ERROR' }))?.code).toBe('VALIDATION_FAILED');
  });
});

describe('toAppError for transactions Postgres rolled back', () => {
  it('maps a deadlock or serialization failure to a 409 the client may retry', () => {
    for (const code of ['40P01', '40001']) {
      const mapped = toAppError(Object.assign(new Error('deadlock detected'), { code, severity: 'ERROR' }));
      expect({ kind: mapped?.kind, code: mapped?.code, message: mapped?.message }).toEqual({
        kind: ErrorKind.Conflict,
        code: 'CONFLICT',
        message: expect.stringContaining('retry'),
      });
    }
  });
});
