import { Mail, MailerService } from '@latchkey/mailer';

import { TestApp } from './create-test-app';

const boxes = new WeakMap<TestApp, Mail[]>();

/**
 * Every mail the app's MailerService is asked to send from now on, recorded while the
 * real send still runs (to the log, or to SMTP_URL). For factories that need a mailed
 * token without an SMTP server; the e2e tests of mail itself read a real SMTP server.
 */
export function mailbox(app: TestApp): Mail[] {
  let box = boxes.get(app);
  if (!box) {
    const recorded: Mail[] = [];
    const mailer = app.app.get(MailerService);
    const send = mailer.send.bind(mailer);
    mailer.send = async (mail: Mail) => {
      recorded.push(mail);
      await send(mail);
    };
    boxes.set(app, recorded);
    box = recorded;
  }
  return box;
}

/** The token of the newest mailed link to `email` whose path contains `path`. */
export function tokenFromMail(mails: Mail[], email: string, path: string): string {
  for (let index = mails.length - 1; index >= 0; index -= 1) {
    const mail = mails[index];
    if (mail.to !== email) continue;
    const token = linkToken(mail.text, path);
    if (token) return token;
  }
  throw new Error(`no mail to ${email} with a ${path} link`);
}

export function linkToken(text: string, path: string): string | null {
  const match = new RegExp(`${path.replace(/[/?]/g, '\\$&')}\\?token=([^\\s]+)`).exec(text);
  return match ? decodeURIComponent(match[1]) : null;
}
