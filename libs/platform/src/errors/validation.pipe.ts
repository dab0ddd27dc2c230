import { ValidationError, ValidationPipe } from '@nestjs/common';

import { ErrorDetail } from '@latchkey/contracts';

import { AppError } from './app-error';

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * DTO validation for every route and message handler that takes a DTO: unknown fields
 * are refused, types are not coerced silently, and each problem is reported with its
 * field. The hot paths (the key checks, the key lookups) take `unknown` instead, which
 * this pipe passes through, and parse it with a compiled schema (jsonSchemaParser).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validateCustomDecorators: false,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const summary = details.length === 1 ? details[0].message : `${details.length} fields are invalid.`;
      return AppError.validation(summary, details);
    },
  });
}
