export { MailerModule } from './mailer.module';
export { Mail, MailerService } from './mailer.service';
export { oneLine } from './one-line';
