import { Module } from '@nestjs/common';

import { OrganizationsModule } from '../organizations/organizations.module';
import { OrgsRpcController } from './orgs.rpc.controller';

@Module({ imports: [OrganizationsModule], controllers: [OrgsRpcController] })
export class OrgsRpcModule {}
