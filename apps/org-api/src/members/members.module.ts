import { Module } from '@nestjs/common';

import { InvitationsController } from './invitations.controller';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';

@Module({ controllers: [InvitationsController, MembersController], providers: [MembersService] })
export class MembersModule {}
