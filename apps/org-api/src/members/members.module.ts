import { Module } from '@nestjs/common';

import { ThrottleModule } from '../throttle/throttle.module';
import { InvitationsController } from './invitations.controller';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';
import { MyInvitationsController } from './my-invitations.controller';

@Module({
  imports: [ThrottleModule],
  controllers: [InvitationsController, MembersController, MyInvitationsController],
  providers: [MembersService],
})
export class MembersModule {}
