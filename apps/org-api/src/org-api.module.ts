import { Module } from '@nestjs/common';

import { AuditLogsModule } from './audit-logs/audit-logs.module';
import { AuthModule } from './auth/auth.module';
import { MembersModule } from './members/members.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { OrgsRpcModule } from './orgs-rpc/orgs-rpc.module';
import { PlatformAdminModule } from './platform-admin/platform-admin.module';

/**
 * The org/role service: accounts and sessions, organisations and their settings,
 * members, roles and invitations, live-mode approval and the audit log.
 */
@Module({ imports: [AuditLogsModule, AuthModule, MembersModule, OrganizationsModule, OrgsRpcModule, PlatformAdminModule] })
export class OrgApiModule {}
