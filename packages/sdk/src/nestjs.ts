/** `@latchkey/sdk/nestjs`: LatchkeyModule, LatchkeyGuard and its decorators (docs/sdk.md#nest). @nestjs/common and @nestjs/core are peers. */
export { CurrentKey, LATCHKEY_VERIFIER, LatchkeyGuard, LatchkeyModule, RequireKey, SkipKey } from './nestjs/latchkey.nestjs';
export type { RequireKeyOptions } from './nestjs/latchkey.nestjs';
export { refusalFor } from './guard/verdict-refusal';
export type { Refusal } from './guard/verdict-refusal';
