import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TestApp } from '../../support/create-test-app';
import { signUp } from '../../support/factories';

/** Written by `npm run openapi` (scripts/openapi.ts); the SDK's types come from it. */
const OPENAPI_FILE = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');

/**
 * Where a schema in the document says less than its field's real type: `type: object`
 * with no shape (what Nest writes for a `string | null` property left without an
 * explicit `type`), or no type at all. A property that is a real object says so with
 * `properties`, `additionalProperties` or a reference (`allOf`/`$ref`, as `rate_limit`,
 * `quota` and an audit row's `target` do); one that is always null says `enum: [null]`.
 */
function shapelessSchemas(node: unknown, at: string, isSchema = false, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((item, index) => shapelessSchemas(item, `${at}[${index}]`, isSchema, out));
    return out;
  }
  if (node === null || typeof node !== 'object') return out;
  const schema = node as Record<string, unknown>;
  if (isSchema) {
    const composed = ['$ref', 'allOf', 'oneOf', 'anyOf'].some((keyword) => keyword in schema);
    const shaped = 'properties' in schema || 'additionalProperties' in schema;
    if (schema.type === 'object' && !shaped && !composed) out.push(`${at}: type object without a shape`);
    if (schema.type === undefined && !composed && !('enum' in schema)) out.push(`${at}: no type`);
  }
  for (const [key, value] of Object.entries(schema)) {
    const path = `${at}.${key}`;
    if (isSchema && (key === 'properties' || key === 'patternProperties')) {
      for (const [name, property] of Object.entries(value as Record<string, unknown>)) {
        shapelessSchemas(property, `${path}.${name}`, true, out);
      }
    } else if (isSchema && ['items', 'additionalProperties', 'not', 'allOf', 'oneOf', 'anyOf'].includes(key)) {
      if (typeof value === 'object') shapelessSchemas(value, path, true, out);
    } else if (key === 'schema' || (at === '.components' && key === 'schemas')) {
      if (key === 'schemas') {
        for (const [name, named] of Object.entries(value as Record<string, unknown>)) shapelessSchemas(named, `${path}.${name}`, true, out);
      } else shapelessSchemas(value, path, true, out);
    } else {
      shapelessSchemas(value, path, false, out);
    }
  }
  return out;
}

/** The OpenAPI document is generated from the code; these checks keep it complete. */
describe('OpenAPI document', () => {
  let sut: TestApp;
  let document: any;
  /** What GET /v1/webhooks/event-types serves: the types an endpoint can subscribe to. */
  let eventTypes: string[];

  beforeAll(async () => {
    sut = await TestApp.start();
    document = (await sut.get('/v1/openapi.json')).body;
    const owner = await signUp(sut);
    const served = await sut.get('/v1/webhooks/event-types', { token: owner.token });
    expect(served.status).toBe(200);
    eventTypes = (served.body.data as Array<{ type: string }>).map(({ type }) => type);
  });

  afterAll(async () => {
    await sut.close();
  });

  const operations = () =>
    Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );

  it('documents a success answer in the envelope for every /v1 operation (forward auth: headers only)', () => {
    const v1 = operations().filter(({ path }) => path.startsWith('/v1/') && path !== '/v1/openapi.json' && path !== '/v1/openapi.yaml');
    expect(v1.length).toBeGreaterThan(20);
    for (const { path, method, operation } of v1) {
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
      expect({ path, method, documented: Boolean(success) }).toEqual({ path, method, documented: true });
      if (method === 'get' && path === '/v1/check') {
        expect((success![1] as any).content).toBeUndefined();
        expect(Object.keys((success![1] as any).headers)).toEqual(expect.arrayContaining(['X-Latchkey-Org-Id', 'X-Latchkey-Key-Id']));
        continue;
      }
      const schema = (success![1] as any).content['application/json'].schema;
      expect(schema.properties.success).toBeDefined();
      expect(schema.properties.data).toBeDefined();
    }
  });

  it('documents the request body of every create and edit', () => {
    for (const { path, method } of [
      { path: '/v1/api-keys', method: 'post' },
      { path: '/v1/api-keys/{id}', method: 'patch' },
      { path: '/v1/api-keys/{id}/roll', method: 'post' },
      { path: '/v1/members', method: 'post' },
      { path: '/v1/auth/signup', method: 'post' },
      { path: '/v1/orgs/current/settings', method: 'patch' },
    ]) {
      const body = document.paths[path]?.[method]?.requestBody;
      expect({ path, method, body: Boolean(body?.content?.['application/json']?.schema) }).toEqual({ path, method, body: true });
    }
  });

  it('describes the API key with its public fields and never a secret hash', () => {
    const schemas = document.components.schemas;
    const key = schemas.ApiKeyResponseDto;
    expect(Object.keys(key.properties)).toEqual(
      expect.arrayContaining(['id', 'name', 'environment', 'prefix', 'masked', 'status', 'permissions', 'restrictions', 'expires_at']),
    );
    expect(JSON.stringify(schemas)).not.toMatch(/secret_hash|password_hash|token_hash|sealed/);
  });

  it('publishes the payload of every event type an endpoint can subscribe to, WebhookEvent telling them apart by type', () => {
    const schemas = document.components.schemas;
    const union = schemas.WebhookEvent;
    expect(Object.keys(union.discriminator.mapping).sort()).toEqual([...eventTypes].sort());
    expect(eventTypes.length).toBeGreaterThan(10);
    expect(union.discriminator.propertyName).toBe('type');
    for (const type of eventTypes) {
      const ref = `#/components/schemas/WebhookEvent.${type}`;
      expect(union.discriminator.mapping[type]).toBe(ref);
      expect(union.oneOf).toContainEqual({ $ref: ref });
      const event = schemas[`WebhookEvent.${type}`];
      expect(event.properties.type.enum).toEqual([type]);
      expect(event.required).toEqual(expect.arrayContaining(['id', 'type', 'created_at', 'org_id', 'environment', 'data']));
      expect(event.properties.data.type).toBe('object');
    }
  });

  it('matches the committed docs/openapi.json (run npm run openapi after changing a route or DTO)', () => {
    expect(document).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
  });

  it('gives every field its real type: no shapeless type object, no missing type', () => {
    // The check itself: a nullable string as Nest writes it without `type: String`.
    expect(
      shapelessSchemas({ components: { schemas: { Dto: { type: 'object', properties: { a: { type: 'object', nullable: true } } } } } }, ''),
    ).toEqual(['.components.schemas.Dto.properties.a: type object without a shape']);
    expect(shapelessSchemas(document, '')).toEqual([]);
  });

  it('names every operation area.action, each once', () => {
    const ids = operations().map(({ operation }) => operation.operationId as string);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['apiKeys.create', 'keyChecks.verify', 'auth.login']));
  });

  it('declares the credential of every operation: none for signup and login, the internal token for the checks', () => {
    for (const { path, method, operation } of operations()) {
      expect({ path, method, security: Array.isArray(operation.security) }).toEqual({ path, method, security: true });
    }
    expect(document.paths['/v1/auth/signup'].post.security).toEqual([]);
    expect(document.paths['/v1/auth/login'].post.security).toEqual([]);
    expect(document.paths['/v1/verify'].post.security).toEqual([{ internalToken: [] }]);
    expect(document.paths['/v1/check'].get.security).toEqual([{ internalToken: [] }]);
    expect(document.paths['/v1/api-keys'].post.security).toEqual([{ session: [] }, { managementKey: [] }]);
    expect(document.paths['/v1/management-keys'].post.security).toEqual([{ session: [] }]);
  });
});
