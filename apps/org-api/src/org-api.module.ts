import { Module } from '@nestjs/common';

import { MailerModule } from '@latchkey/mailer';

import { AlertsModule } from './alerts/alerts.module';
import { AuditLogsModule } from './audit-logs/audit-logs.module';
import { AuthModule } from './auth/auth.module';
import { ManagementKeysModule } from './management-keys/management-keys.module';
import { MembersModule } from './members/members.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { OrgsRpcModule } from './orgs-rpc/orgs-rpc.module';
import { PlatformAdminModule } from './platform-admin/platform-admin.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * The org/role service: accounts and sessions, organisations and their settings,
 * members, roles and invitations, live-mode approval and the audit log.
 */
@Module({
  imports: [
    AlertsModule,
    AuditLogsModule,
    AuthModule,
    MailerModule,
    ManagementKeysModule,
    MembersModule,
    OrganizationsModule,
    OrgsRpcModule,
    PlatformAdminModule,
    WebhooksModule,
  ],
})
export class OrgApiModule {}
