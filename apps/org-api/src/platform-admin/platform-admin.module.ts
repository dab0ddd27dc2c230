import { Module } from '@nestjs/common';

import { OrganizationsModule } from '../organizations/organizations.module';
import { PlatformOrganizationsController } from './platform-organizations.controller';

/** Routes of the platform operator (PLATFORM_ADMIN_TOKEN), across every organisation. */
@Module({ imports: [OrganizationsModule], controllers: [PlatformOrganizationsController] })
export class PlatformAdminModule {}
