import { request } from 'node:http';
import { AddressInfo } from 'node:net';

import { NestFastifyApplication } from '@nestjs/platform-fastify';

import { AppConfigValues, ServiceTarget } from '@latchkey/config';

import { FrontDoor } from '../../apps/auth-check/src/front-door/front-door';
import { createLatchkeyApp } from '../../apps/latchkey/src/create-app';
import { LogCapture } from './log-capture';
import { TestEnvironment } from './test-environment';

export interface CallOptions {
  body?: unknown;
  /** Raw payload, sent as is (for malformed JSON or huge bodies). */
  rawBody?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
  text: string;
}

/**
 * A whole Latchkey process (TARGET=all unless told otherwise) in its own test
 * environment. Calls go through Fastify's in-process injection (the same routing,
 * hooks, guards and filters as a real socket), except those the HTTP server's front
 * door answers before Fastify (the key checks, when auth-check runs): injection would
 * never reach it, so they are sent over a real socket to the port the app listens on.
 */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly env: TestEnvironment,
    readonly config: AppConfigValues,
    private readonly ownsEnv: boolean,
    /** Only a process running auth-check has one. */
    private readonly frontDoor: FrontDoor | null,
    /** http://127.0.0.1:<port> */
    readonly baseUrl: string,
  ) {}

  static async start(options: { env?: TestEnvironment; config?: Record<string, string>; logs?: LogCapture } = {}): Promise<TestApp> {
    const env = options.env ?? (await TestEnvironment.create());
    const config = env.config(options.config);
    const app = await createLatchkeyApp(config, { logDestination: options.logs });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as AddressInfo;
    const frontDoor = config.targets.includes(ServiceTarget.AuthCheck) ? app.get(FrontDoor) : null;
    return new TestApp(app, env, config, !options.env, frontDoor, `http://127.0.0.1:${port}`);
  }

  async call<T = any>(method: string, url: string, options: CallOptions = {}): Promise<CallResult<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = this.frontDoor?.handles(method, url)
      ? await this.overSocket(method, withQuery(url, options.query), headers, payload)
      : await this.app.inject({ method: method as never, url, headers, payload, query: options.query });
    let body: unknown = undefined;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body: body as T, text: response.body };
  }

  private overSocket(method: string, url: string, headers: Record<string, string>, payload: string | Buffer | undefined) {
    return new Promise<{ statusCode: number; headers: CallResult['headers']; body: string }>((resolve, reject) => {
      const outgoing = request(`${this.baseUrl}${url}`, { method, headers, agent: false }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({ statusCode: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        incoming.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  get = <T = any>(url: string, options?: CallOptions) => this.call<T>('GET', url, options);
  post = <T = any>(url: string, options?: CallOptions) => this.call<T>('POST', url, options);
  patch = <T = any>(url: string, options?: CallOptions) => this.call<T>('PATCH', url, options);
  delete = <T = any>(url: string, options?: CallOptions) => this.call<T>('DELETE', url, options);

  async close(): Promise<void> {
    await this.app.close();
    if (this.ownsEnv) await this.env.destroy();
  }
}

function withQuery(url: string, query: Record<string, string> | undefined): string {
  if (!query || Object.keys(query).length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(query).toString()}`;
}
