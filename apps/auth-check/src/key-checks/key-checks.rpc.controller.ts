import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';

import { AuthCheckPattern, VERIFY_KEY_REQUEST, VerifyKeyRequest } from '@latchkey/contracts';
import { MessagePayload } from '@latchkey/platform';

import { KeyChecksService } from './key-checks.service';
import { KeyVerdict } from './key-verdict';
import { fromVerifyRequest, refineVerifyKeyRequest } from './verify-key.schema';

/**
 * `auth.verify` over the Redis transport: the body and the verdict of POST /v1/verify,
 * judged by the same contract and the same compiled check as the HTTP route; errors
 * leave through the RPC filter as an RpcErrorReply.
 */
@Controller()
export class KeyChecksRpcController {
  constructor(private readonly checks: KeyChecksService) {}

  @MessagePattern(AuthCheckPattern.VerifyKey)
  async verifyKey(@MessagePayload(VERIFY_KEY_REQUEST, refineVerifyKeyRequest) request: VerifyKeyRequest): Promise<KeyVerdict> {
    const check = await this.checks.verify(fromVerifyRequest(request));
    return check.verdict;
  }
}
