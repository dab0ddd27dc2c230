import { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';

import { waitUntil } from './wait-until';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

/**
 * A real SMTP server on a free local port that keeps every message it receives, so
 * e2e tests send mail the way production does and read the links out of it.
 */
export class SmtpSink {
  /** Acknowledgements held back by hold(), sent by release(). */
  private held: (() => void)[] | null = null;

  private constructor(
    readonly received: ReceivedMail[],
    private readonly server: SMTPServer,
    readonly url: string,
  ) {}

  static async start(): Promise<SmtpSink> {
    const received: ReceivedMail[] = [];
    let sink: SmtpSink | null = null;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
          if (sink?.held) sink.held.push(() => callback());
          else callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    sink = new SmtpSink(received, server, `smtp://127.0.0.1:${port}`);
    return sink;
  }

  /**
   * From now on a message is kept but not acknowledged: its sender waits, as it would
   * for a slow or stuck SMTP server, until release().
   */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const acknowledge of held) acknowledge();
  }

  /** Mails received for `address`, oldest first, bodies with quoted-printable soft breaks undone. */
  to(address: string): string[] {
    return this.received.filter((mail) => mail.to.includes(address)).map((mail) => decodeQuotedPrintable(mail.raw));
  }

  /** The token of the newest link containing `path` mailed to `address`. */
  token(address: string, path: string): string {
    const mails = this.to(address);
    for (let index = mails.length - 1; index >= 0; index -= 1) {
      const match = new RegExp(`${path.replace(/[/?]/g, '\\$&')}\\?token=([A-Za-z0-9_%-]+)`).exec(mails[index]);
      if (match) return decodeURIComponent(match[1]);
    }
    throw new Error(`no mail to ${address} with a ${path} link (received ${this.received.length} mails)`);
  }

  /** Waits until `address` has received `count` mails (mail sent after an answer arrives a little later). */
  async waitFor(address: string, count = 1, timeoutMs = 5_000): Promise<string[]> {
    await waitUntil(() => this.to(address).length >= count, timeoutMs, `${count} mail(s) to ${address}`);
    return this.to(address);
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
