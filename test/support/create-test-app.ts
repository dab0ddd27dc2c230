import { NestFastifyApplication } from '@nestjs/platform-fastify';

import { AppConfigValues } from '@latchkey/config';

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
 * environment, called through Fastify's in-process injection: the same routing,
 * hooks, guards and filters as a real socket, without a port.
 */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly env: TestEnvironment,
    readonly config: AppConfigValues,
    private readonly ownsEnv: boolean,
  ) {}

  static async start(options: { env?: TestEnvironment; config?: Record<string, string>; logs?: LogCapture } = {}): Promise<TestApp> {
    const env = options.env ?? (await TestEnvironment.create());
    const config = env.config(options.config);
    const app = await createLatchkeyApp(config, { logDestination: options.logs });
    return new TestApp(app, env, config, !options.env);
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
    const response = await this.app.inject({ method: method as never, url, headers, payload, query: options.query });
    let body: unknown = undefined;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body: body as T, text: response.body };
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
