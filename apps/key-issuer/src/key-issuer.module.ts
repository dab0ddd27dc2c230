import { Module } from '@nestjs/common';

/**
 * The key-issuer service. Its capabilities arrive with their own issues; the module
 * exists so TARGET=key-issuer already runs a process with health and metrics.
 */
@Module({})
export class KeyIssuerModule {}
