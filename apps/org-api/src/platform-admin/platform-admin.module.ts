import { Module } from '@nestjs/common';

import { OrganizationsModule } from '../organizations/organizations.module';
import { PlatformOrganizationsController } from './platform-organizations.controller';
import { PlatformUsageQuarantineController } from './platform-usage-quarantine.controller';

/** Routes of the platform operator (PLATFORM_ADMIN_TOKEN), across every organisation. */
@Module({ imports: [OrganizationsModule], controllers: [PlatformOrganizationsController, PlatformUsageQuarantineController] })
export class PlatformAdminModule {}
