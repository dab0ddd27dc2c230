import { HttpClient, HttpClientOptions, QueryValue, RequestOptions } from '../core/http-client';
import { PageList } from '../core/pagination';
import { ListItem, OperationId, QueryOf, RequestBody, ResponseData } from './operation-types';

export type LatchkeyOptions = HttpClientOptions;

/** Per call: a timeout, an abort signal, or your own Idempotency-Key for a POST. */
export type CallOptions = Pick<RequestOptions, 'timeoutMs' | 'signal' | 'idempotencyKey'>;

const segment = (id: string) => encodeURIComponent(id);

/**
 * The management client over Latchkey's REST API (docs/sdk.md): one namespace per area,
 * each method one route of docs/openapi.json with its types. Lists are PageList: `await`
 * one for its first page, `for await` it for every item.
 */
export class Latchkey {
  readonly http: HttpClient;

  constructor(options: LatchkeyOptions) {
    this.http = new HttpClient(options);
  }

  private call<K extends OperationId>(method: string, path: string, options: RequestOptions = {}): Promise<ResponseData<K>> {
    return this.http.request<ResponseData<K>>(method, path, options);
  }

  private list<K extends OperationId>(path: string, query: object = {}): PageList<ListItem<K>> {
    return new PageList((cursor) => this.http.page<ListItem<K>>(path, query as Record<string, QueryValue>, cursor));
  }

  readonly keys = {
    create: (body: RequestBody<'apiKeys.create'>, options?: CallOptions) =>
      this.call<'apiKeys.create'>('POST', '/v1/api-keys', { ...options, body }),
    list: (query: QueryOf<'apiKeys.list'> = {}) => this.list<'apiKeys.list'>('/v1/api-keys', query),
    get: (id: string, options?: CallOptions) => this.call<'apiKeys.get'>('GET', `/v1/api-keys/${segment(id)}`, options),
    update: (id: string, body: RequestBody<'apiKeys.update'>, options?: CallOptions) =>
      this.call<'apiKeys.update'>('PATCH', `/v1/api-keys/${segment(id)}`, { ...options, body }),
    /** The old secret keeps working for `expire_old_in_seconds` (the server's default: 24 h). */
    roll: (id: string, body: Partial<RequestBody<'apiKeys.roll'>> = {}, options?: CallOptions) =>
      this.call<'apiKeys.roll'>('POST', `/v1/api-keys/${segment(id)}/roll`, { ...options, body }),
    revoke: (id: string, options?: CallOptions) => this.call<'apiKeys.revoke'>('POST', `/v1/api-keys/${segment(id)}/revoke`, options),
    disable: (id: string, options?: CallOptions) => this.call<'apiKeys.disable'>('POST', `/v1/api-keys/${segment(id)}/disable`, options),
    enable: (id: string, options?: CallOptions) => this.call<'apiKeys.enable'>('POST', `/v1/api-keys/${segment(id)}/enable`, options),
    delete: (id: string, options?: CallOptions) => this.call<'apiKeys.delete'>('DELETE', `/v1/api-keys/${segment(id)}`, options),
    usage: (id: string, query: QueryOf<'usageReports.keyUsage'> = {}, options?: CallOptions) =>
      this.call<'usageReports.keyUsage'>('GET', `/v1/api-keys/${segment(id)}/usage`, { ...options, query }),
  };

  readonly webhooks = {
    create: (body: RequestBody<'webhooks.create'>, options?: CallOptions) =>
      this.call<'webhooks.create'>('POST', '/v1/webhooks', { ...options, body }),
    list: (query: QueryOf<'webhooks.list'> = {}) => this.list<'webhooks.list'>('/v1/webhooks', query),
    get: (id: string, options?: CallOptions) => this.call<'webhooks.get'>('GET', `/v1/webhooks/${segment(id)}`, options),
    update: (id: string, body: RequestBody<'webhooks.update'>, options?: CallOptions) =>
      this.call<'webhooks.update'>('PATCH', `/v1/webhooks/${segment(id)}`, { ...options, body }),
    delete: (id: string, options?: CallOptions) => this.call<'webhooks.delete'>('DELETE', `/v1/webhooks/${segment(id)}`, options),
    disable: (id: string, options?: CallOptions) => this.call<'webhooks.disable'>('POST', `/v1/webhooks/${segment(id)}/disable`, options),
    enable: (id: string, options?: CallOptions) => this.call<'webhooks.enable'>('POST', `/v1/webhooks/${segment(id)}/enable`, options),
    rotateSecret: (id: string, options?: CallOptions) =>
      this.call<'webhooks.rotateSecret'>('POST', `/v1/webhooks/${segment(id)}/rotate-secret`, options),
    sendTest: (id: string, options?: CallOptions) => this.call<'webhooks.sendTest'>('POST', `/v1/webhooks/${segment(id)}/test`, options),
    /** Re-sends the endpoint's failed deliveries created since `query.since` (a query parameter, not a body). */
    recover: (id: string, query: QueryOf<'webhooks.recover'>, options?: CallOptions) =>
      this.call<'webhooks.recover'>('POST', `/v1/webhooks/${segment(id)}/recover`, { ...options, query }),
    deliveries: (id: string, query: QueryOf<'webhooks.listDeliveries'> = {}) =>
      this.list<'webhooks.listDeliveries'>(`/v1/webhooks/${segment(id)}/deliveries`, query),
    retryDelivery: (deliveryId: string, options?: CallOptions) =>
      this.call<'webhookDeliveries.retry'>('POST', `/v1/webhook-deliveries/${segment(deliveryId)}/retry`, options),
    eventTypes: (options?: CallOptions) => this.call<'webhooks.eventTypes'>('GET', '/v1/webhooks/event-types', options),
  };

  readonly members = {
    list: (query: QueryOf<'members.list'> = {}) => this.list<'members.list'>('/v1/members', query),
    invite: (body: RequestBody<'members.add'>, options?: CallOptions) =>
      this.call<'members.add'>('POST', '/v1/members', { ...options, body }),
    changeRole: (id: string, body: RequestBody<'members.changeRole'>, options?: CallOptions) =>
      this.call<'members.changeRole'>('PATCH', `/v1/members/${segment(id)}`, { ...options, body }),
    remove: (id: string, options?: CallOptions) => this.call<'members.remove'>('DELETE', `/v1/members/${segment(id)}`, options),
    invitations: (query: QueryOf<'members.listInvitations'> = {}) => this.list<'members.listInvitations'>('/v1/members/invitations', query),
    resendInvitation: (id: string, options?: CallOptions) =>
      this.call<'members.resendInvitation'>('POST', `/v1/members/invitations/${segment(id)}/resend`, options),
    revokeInvitation: (id: string, options?: CallOptions) =>
      this.call<'members.revokeInvitation'>('DELETE', `/v1/members/invitations/${segment(id)}`, options),
  };

  readonly usage = {
    org: (query: QueryOf<'usageReports.orgUsage'>, options?: CallOptions) =>
      this.call<'usageReports.orgUsage'>('GET', '/v1/usage', { ...options, query }),
    key: (id: string, query: QueryOf<'usageReports.keyUsage'> = {}, options?: CallOptions) =>
      this.call<'usageReports.keyUsage'>('GET', `/v1/api-keys/${segment(id)}/usage`, { ...options, query }),
  };

  readonly logs = {
    list: (query: QueryOf<'usageReports.listLogs'> = {}) => this.list<'usageReports.listLogs'>('/v1/logs', query),
  };

  readonly alerts = {
    list: (query: QueryOf<'alerts.list'> = {}) => this.list<'alerts.list'>('/v1/alerts', query),
    acknowledge: (id: string, options?: CallOptions) => this.call<'alerts.acknowledge'>('POST', `/v1/alerts/${segment(id)}/ack`, options),
  };

  readonly auditLogs = {
    list: (query: QueryOf<'auditLogs.list'> = {}) => this.list<'auditLogs.list'>('/v1/audit-logs', query),
  };

  /** Org-scoped tokens for scripts and CI; only a person (a session) may create or revoke one. */
  readonly managementKeys = {
    create: (body: RequestBody<'managementKeys.create'>, options?: CallOptions) =>
      this.call<'managementKeys.create'>('POST', '/v1/management-keys', { ...options, body }),
    list: (query: QueryOf<'managementKeys.list'> = {}) => this.list<'managementKeys.list'>('/v1/management-keys', query),
    get: (id: string, options?: CallOptions) => this.call<'managementKeys.get'>('GET', `/v1/management-keys/${segment(id)}`, options),
    revoke: (id: string, options?: CallOptions) =>
      this.call<'managementKeys.revoke'>('POST', `/v1/management-keys/${segment(id)}/revoke`, options),
  };

  readonly orgs = {
    list: (query: QueryOf<'organizations.list'> = {}) => this.list<'organizations.list'>('/v1/orgs', query),
    current: (options?: CallOptions) => this.call<'organizations.current'>('GET', '/v1/orgs/current', options),
    update: (body: RequestBody<'organizations.update'>, options?: CallOptions) =>
      this.call<'organizations.update'>('PATCH', '/v1/orgs/current', { ...options, body }),
    settings: (options?: CallOptions) => this.call<'organizations.settings'>('GET', '/v1/orgs/current/settings', options),
    updateSettings: (body: RequestBody<'organizations.updateSettings'>, options?: CallOptions) =>
      this.call<'organizations.updateSettings'>('PATCH', '/v1/orgs/current/settings', { ...options, body }),
    requestLiveAccess: (options?: CallOptions) =>
      this.call<'organizations.requestLiveAccess'>('POST', '/v1/orgs/current/live-access', options),
  };
}
