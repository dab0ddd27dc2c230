import { applyDecorators, HttpStatus, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

import { ErrorBodyDto, ErrorResponseDto } from './error-response.dto';

interface EnvelopeOptions {
  status?: HttpStatus;
  description?: string;
  /** A cursor-paginated list of the model. */
  list?: boolean;
}

/**
 * Documents a route's success answer inside the `{success, data}` envelope, and the
 * error envelope for the failures every route can give.
 */
export function ApiEnvelope(model: Type | null, options: EnvelopeOptions = {}) {
  const data: SchemaObject | ReferenceObject =
    model === null
      ? { nullable: true, enum: [null], description: 'Always null.' }
      : options.list
        ? { type: 'array', items: { $ref: getSchemaPath(model) } }
        : { $ref: getSchemaPath(model) };
  const listFields: Record<string, SchemaObject> = options.list
    ? { has_more: { type: 'boolean' }, next_cursor: { type: 'string', nullable: true, description: 'Pass as ?cursor= for the next page.' } }
    : {};
  return applyDecorators(
    ApiExtraModels(...(model ? [model] : []), ErrorResponseDto, ErrorBodyDto),
    ApiResponse({
      status: options.status ?? HttpStatus.OK,
      description: options.description ?? 'Success',
      schema: {
        type: 'object',
        required: ['success', 'data'],
        properties: { success: { type: 'boolean', enum: [true] }, data, ...listFields },
      },
    }),
    ApiResponse({ status: 400, description: 'Invalid input', type: ErrorResponseDto }),
    ApiResponse({ status: 401, description: 'Missing or invalid credentials', type: ErrorResponseDto }),
    ApiResponse({ status: 403, description: 'Not allowed for this role', type: ErrorResponseDto }),
    ApiResponse({ status: 404, description: 'Not found (also for another organisation’s ids)', type: ErrorResponseDto }),
  );
}
