import { Module } from '@nestjs/common';

/**
 * The auth-check service. Its capabilities arrive with their own issues; the module
 * exists so TARGET=auth-check already runs a process with health and metrics.
 */
@Module({})
export class AuthCheckModule {}
