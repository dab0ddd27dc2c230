import { Module } from '@nestjs/common';

import { LoginThrottleService } from './login-throttle.service';

/** The Redis-counted limits on logins, signups, mails asked for again and invitations: one service for every module that limits. */
@Module({ providers: [LoginThrottleService], exports: [LoginThrottleService] })
export class ThrottleModule {}
