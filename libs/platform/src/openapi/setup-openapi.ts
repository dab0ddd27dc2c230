import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FastifyInstance } from 'fastify';

import { EventType, webhookEventSchema, webhookEventSchemaName } from '@latchkey/contracts';

/**
 * `ApiKeysController` + `create` → `apiKeys.create`: a name a client generator turns
 * into `client.apiKeys.create()`, and one that survives renaming the class's suffix.
 */
export function operationIdFor(controllerKey: string, methodKey: string): string {
  const area = controllerKey.replace(/(Http|Rpc)?Controller$/, '');
  return `${area.charAt(0).toLowerCase()}${area.slice(1)}.${methodKey}`;
}

/**
 * The OpenAPI document is generated from the controllers and DTOs, so it cannot
 * drift from the code. `scripts/openapi.ts` writes the all-in-one document to
 * docs/openapi.json for the SDK's generated types.
 */
export function buildOpenApiDocument(app: INestApplication, targets: readonly string[]): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Latchkey API')
    .setDescription(
      'Issue API keys, verify them on every request, meter usage and deliver signed webhooks. ' +
        'Every answer is `{success, data}` or `{success: false, error: {code, message, details, request_id}}`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Session token from POST /v1/auth/login' }, 'session')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Management key `lk_mgmt_…` (docs/api-conventions.md#management-keys)' },
      'managementKey',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'PLATFORM_ADMIN_TOKEN of the operator' }, 'platform')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-internal-token', description: 'INTERNAL_TOKEN of the deployment' }, 'internalToken')
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: operationIdFor });
  document.info.description += ` Services in this process: ${targets.join(', ')}.`;
  // AccessGuard refuses a route that declares neither @Public, @Roles nor
  // @PlatformAdmin, and the latter two name their scheme: an operation left without
  // one is public, and says so with `security: []` rather than by omission.
  for (const methods of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const operation = methods[method];
      if (operation && !operation.security?.length) operation.security = [];
    }
  }
  addWebhookEventSchemas(document);
  return document;
}

/**
 * OpenAPI 3.0 has no `webhooks` section, so the payload of every event a webhook
 * endpoint can receive is published as a component: `WebhookEvent.<type>` from the
 * event's data contract in @latchkey/contracts, and `WebhookEvent`, any one of them
 * told apart by `type` (docs/api-conventions.md#webhooks).
 */
function addWebhookEventSchemas(document: OpenAPIObject): void {
  const schemas = (document.components ??= {}).schemas ?? {};
  document.components.schemas = schemas;
  const mapping: Record<string, string> = {};
  for (const type of Object.values(EventType)) {
    const name = webhookEventSchemaName(type);
    schemas[name] = webhookEventSchema(type) as SchemaObject;
    mapping[type] = `#/components/schemas/${name}`;
  }
  schemas.WebhookEvent = {
    description: 'The body of a webhook delivery: one event, told apart by `type`.',
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'type', mapping },
  };
}

/**
 * Swagger UI's "Try it out" runs as the signed-in page: no other site may frame it
 * (clickjacking). Its inline scripts keep it off the console's strict policy, so only
 * framing is refused here.
 */
function refuseFramingOfDocs(app: INestApplication): void {
  // Every Latchkey app runs on Fastify (create-app.ts); the Nest type leaves the adapter open.
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/') || request.url.startsWith('/docs?')) {
      void reply.header('content-security-policy', "frame-ancestors 'none'").header('x-frame-options', 'DENY');
    }
    done();
  });
}

export function setupOpenApi(app: INestApplication, targets: readonly string[]): void {
  refuseFramingOfDocs(app);
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app, targets), {
    jsonDocumentUrl: 'v1/openapi.json',
    yamlDocumentUrl: 'v1/openapi.yaml',
    useGlobalPrefix: false,
  });
}
