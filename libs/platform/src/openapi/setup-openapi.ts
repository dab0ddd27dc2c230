import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * The OpenAPI document is generated from the controllers and DTOs at start, so it
 * cannot drift from the code. JSON at /v1/openapi.json, a browsable UI at /docs.
 */
export function setupOpenApi(app: INestApplication, targets: readonly string[]): void {
  const config = new DocumentBuilder()
    .setTitle('Latchkey API')
    .setDescription(
      'Issue API keys, verify them on every request, meter usage and deliver signed webhooks. ' +
        'Every answer is `{success, data}` or `{success: false, error: {code, message, details, request_id}}`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Session token from POST /v1/auth/login' }, 'session')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'PLATFORM_ADMIN_TOKEN of the operator' }, 'platform')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.info.description += ` Services in this process: ${targets.join(', ')}.`;
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'v1/openapi.json',
    yamlDocumentUrl: 'v1/openapi.yaml',
    useGlobalPrefix: false,
  });
}
