import { Module } from '@nestjs/common';

import { AuthModule } from './auth/auth.module';

/**
 * The org/role service: accounts and sessions, organisations and their settings,
 * members, roles and invitations, live-mode approval and the audit log.
 */
@Module({ imports: [AuthModule] })
export class OrgApiModule {}
