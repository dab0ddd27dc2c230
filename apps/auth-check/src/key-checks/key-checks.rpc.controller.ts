import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import { AuthCheckPattern } from '@latchkey/contracts';

import { KeyChecksService } from './key-checks.service';
import { KeyVerdict } from './key-verdict';
import { fromVerifyRequest, parseVerifyKeyRequest } from './verify-key.schema';

/**
 * `auth.verify` over the Redis transport: the body and the verdict of POST /v1/verify.
 * The payload is typed `unknown` so the global ValidationPipe passes it through and
 * the same compiled schema as the HTTP route judges it; errors leave through the
 * RPC filter as `{code, message}`.
 */
@Controller()
export class KeyChecksRpcController {
  constructor(private readonly checks: KeyChecksService) {}

  @MessagePattern(AuthCheckPattern.VerifyKey)
  async verifyKey(@Payload() payload: unknown): Promise<KeyVerdict> {
    const check = await this.checks.verify(fromVerifyRequest(parseVerifyKeyRequest(payload)));
    return check.verdict;
  }
}
