import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  DynamicModule,
  ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { LatchkeyUnavailableError } from '../core/errors';
import { extractKey } from '../extract-key';
import { createVerifier, VerifierOptions } from '../verifier/create-verifier';
import type { PassingVerdict } from '../verifier/verdict';
import { Verifier } from '../verifier/verifier';
import { refusalFor } from './verdict-refusal';

export const LATCHKEY_VERIFIER = Symbol('LATCHKEY_VERIFIER');
const REQUIRE_KEY = 'latchkey:require-key';
const SKIP_KEY = 'latchkey:skip-key';

export interface RequireKeyOptions {
  permissions?: string[];
  environment?: 'test' | 'live';
  cost?: number;
}

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  method?: string;
  url?: string;
  originalUrl?: string;
  rawBody?: Buffer;
  latchkey?: PassingVerdict;
}

interface HeaderSetter {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

/**
 * Verifies the key of each request to a handler or controller marked @RequireKey.
 * A refusal answers 401/403/429 (with WWW-Authenticate or Retry-After); an unreachable
 * Latchkey answers 503: it fails closed. The client address is the framework's
 * `request.ip` (configure Express's or Fastify's trust proxy for what is in front of
 * you); a signing key's `x-signature` goes along with the raw body when the app was
 * created with `rawBody: true`.
 */
@Injectable()
export class LatchkeyGuard implements CanActivate {
  constructor(
    @Inject(LATCHKEY_VERIFIER) private readonly verifier: Verifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(SKIP_KEY, targets)) return true;
    const requirement = this.reflector.getAllAndOverride<RequireKeyOptions | undefined>(REQUIRE_KEY, targets);
    if (!requirement) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    const signature = request.headers['x-signature'];
    let verdict;
    try {
      verdict = await this.verifier.verify({
        key: extractKey(request.headers),
        ...requirement,
        ip: request.ip,
        method: request.method,
        path: request.originalUrl ?? request.url,
        ...(typeof signature === 'string' ? { signatureHeader: signature, body: request.rawBody ?? '' } : {}),
      });
    } catch (error) {
      if (!(error instanceof LatchkeyUnavailableError)) throw error;
      throw new HttpException(
        { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'API keys cannot be checked right now.', details: [] } },
        503,
        { cause: error },
      );
    }
    if (verdict.valid) {
      request.latchkey = verdict;
      return true;
    }
    const refusal = refusalFor(verdict);
    const response = http.getResponse<HeaderSetter>();
    for (const [name, value] of Object.entries(refusal.headers)) {
      if (typeof response.header === 'function') response.header(name, value);
      else response.setHeader?.(name, value);
    }
    throw new HttpException(refusal.body, refusal.status);
  }
}

/** The route needs a valid key (with these permissions, environment, and what it costs from the quota). */
export function RequireKey(options: RequireKeyOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(REQUIRE_KEY, options), UseGuards(LatchkeyGuard));
}

/** A route of a @RequireKey controller that needs no key (a health check, say). */
export const SkipKey = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_KEY, true);

/** The passing verdict of the request's key: `@CurrentKey() key: PassingVerdict`. */
export const CurrentKey = createParamDecorator(
  (_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<GuardedRequest>().latchkey,
);

@Injectable()
class VerifierCloser implements OnApplicationShutdown {
  constructor(@Inject(LATCHKEY_VERIFIER) private readonly verifier: Verifier) {}

  async onApplicationShutdown(): Promise<void> {
    await this.verifier.close();
  }
}

@Module({})
export class LatchkeyModule {
  /** `LatchkeyModule.forRoot({ baseUrl, internalToken })` or `({ redis: { url, prefix }, internalToken })`, the verifier's options. */
  static forRoot(options: VerifierOptions): DynamicModule {
    return {
      module: LatchkeyModule,
      global: true,
      providers: [{ provide: LATCHKEY_VERIFIER, useFactory: () => createVerifier(options) }, LatchkeyGuard, VerifierCloser],
      exports: [LATCHKEY_VERIFIER, LatchkeyGuard],
    };
  }
}
