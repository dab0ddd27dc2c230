import { Module } from '@nestjs/common';

import { LoginThrottleService } from '../auth/login-throttle.service';
import { InvitationsController } from './invitations.controller';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';
import { MyInvitationsController } from './my-invitations.controller';

@Module({
  controllers: [InvitationsController, MembersController, MyInvitationsController],
  providers: [MembersService, LoginThrottleService],
})
export class MembersModule {}
