import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';

import { AppConfig } from '@latchkey/config';

export interface Mail {
  to: string;
  subject: string;
  /** Plain text; the links in it carry single-use tokens. */
  text: string;
}

/**
 * Sends the platform's mail (verification, invitations, password resets, reminders)
 * over SMTP_URL. Without SMTP_URL (only allowed outside production, see loadConfig)
 * the mail is written to the log at info level instead, so a developer can follow the
 * links; that is the one place a token reaches a log, and never in production.
 */
@Injectable()
export class MailerService implements OnModuleDestroy {
  private readonly logger = new Logger(MailerService.name);
  private readonly transport: Transporter | null;
  private readonly from: string;

  constructor(config: AppConfig) {
    const url = config.get('SMTP_URL');
    this.transport = url ? createTransport(url) : null;
    this.from = config.get('MAIL_FROM');
  }

  /** Whether mail actually leaves the process (false: it is logged). */
  get delivers(): boolean {
    return this.transport !== null;
  }

  async send(mail: Mail): Promise<void> {
    if (!this.transport) {
      this.logger.log({ msg: 'mail not sent (SMTP_URL unset); its content follows', to: mail.to, subject: mail.subject, text: mail.text });
      return;
    }
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
