import { Module } from '@nestjs/common';

import { RequestSignatureService } from './request-signature.service';

/** Signed requests: HMAC check and replay guard (needs the global RedisService). */
@Module({ providers: [RequestSignatureService], exports: [RequestSignatureService] })
export class SignaturesModule {}
