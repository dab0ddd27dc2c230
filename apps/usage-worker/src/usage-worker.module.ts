import { Module } from '@nestjs/common';

/**
 * The usage-worker service. Its capabilities arrive with their own issues; the module
 * exists so TARGET=usage-worker already runs a process with health and metrics.
 */
@Module({})
export class UsageWorkerModule {}
