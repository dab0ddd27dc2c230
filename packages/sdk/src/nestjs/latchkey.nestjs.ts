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

import { guardCall, KeyRequirement } from '../guard/guard-request';
import { createVerifier, VerifierOptions } from '../verifier/create-verifier';
import type { PassingVerdict } from '../verifier/verdict';
import { Verifier } from '../verifier/verifier';

export const LATCHKEY_VERIFIER = Symbol('LATCHKEY_VERIFIER');
const REQUIRE_KEY = 'latchkey:require-key';
const SKIP_KEY = 'latchkey:skip-key';

export type RequireKeyOptions = KeyRequirement;

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
 * Latchkey answers 503: it fails closed (the mapping the Express and Fastify adapters share). The client address is the framework's
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
    const outcome = await guardCall(this.verifier, requirement, {
      headers: request.headers,
      ip: request.ip,
      method: request.method,
      path: request.originalUrl ?? request.url,
      rawBody: request.rawBody,
    });
    if (outcome.pass) {
      request.latchkey = outcome.verdict;
      return true;
    }
    const response = http.getResponse<HeaderSetter>();
    for (const [name, value] of Object.entries(outcome.answer.headers)) {
      if (typeof response.header === 'function') response.header(name, value);
      else response.setHeader?.(name, value);
    }
    throw new HttpException(outcome.answer.body, outcome.answer.status, outcome.cause ? { cause: outcome.cause } : undefined);
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
