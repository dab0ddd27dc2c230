import { Controller, OnModuleInit } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';

import { AuthCheckPattern, VERIFY_KEY_REQUEST, VerifyKeyRequest } from '@latchkey/contracts';
import { DirectRpcHandlers, MessagePayload } from '@latchkey/platform';

import { andThen } from '../front-door/maybe-promise';
import { KeyChecksService } from './key-checks.service';
import { KeyVerdict } from './key-verdict';
import { fromVerifyRequest, parseVerifyKeyRequest, refineVerifyKeyRequest } from './verify-key.schema';

/**
 * `auth.verify` over the Redis transport: the body and the verdict of POST /v1/verify,
 * judged by the same contract and the same compiled check as the HTTP route. The
 * transport calls it directly (DirectRpcHandlers), not through Nest's pipeline, which
 * cost as much per call as the check itself; errors become an RpcErrorReply either way.
 */
@Controller()
export class KeyChecksRpcController implements OnModuleInit {
  constructor(
    private readonly checks: KeyChecksService,
    private readonly direct: DirectRpcHandlers,
  ) {}

  onModuleInit(): void {
    this.direct.register(AuthCheckPattern.VerifyKey, (payload) =>
      andThen(this.checks.verify(fromVerifyRequest(parseVerifyKeyRequest(payload))), (check) => check.verdict),
    );
  }

  /** What Nest would run for `auth.verify`; the transport takes the direct handler above instead. */
  @MessagePattern(AuthCheckPattern.VerifyKey)
  async verifyKey(@MessagePayload(VERIFY_KEY_REQUEST, refineVerifyKeyRequest) request: VerifyKeyRequest): Promise<KeyVerdict> {
    const check = await this.checks.verify(fromVerifyRequest(request));
    return check.verdict;
  }
}
