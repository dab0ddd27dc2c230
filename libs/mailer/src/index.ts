export { MailerModule } from './mailer.module';
export { Mail, MailerService } from './mailer.service';
