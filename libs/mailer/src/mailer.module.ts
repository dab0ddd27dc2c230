import { Global, Module } from '@nestjs/common';

import { MailerService } from './mailer.service';

/** One SMTP connection pool per process, shared by every app that sends mail. */
@Global()
@Module({ providers: [MailerService], exports: [MailerService] })
export class MailerModule {}
