import { createInterface } from 'node:readline';

import { UsageError } from './exit-codes';

let piped: AsyncIterator<string> | undefined;

/**
 * One line from stdin: asked on stderr when stdin is a terminal. Piped input is read by
 * one reader for the whole run (a reader per prompt would buffer, and lose, the lines
 * after its own).
 */
export async function promptLine(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    piped ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
    const next = await piped.next();
    if (next.done) throw new UsageError('no input on stdin');
    return next.value;
  }
  const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write(question);
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new UsageError('no input on stdin');
}

/** A password from the terminal without echoing it; from a pipe, its first line. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return promptLine(question);
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            return resolve(typed);
          }
          if (char === '\u0003') {
            stdin.off('data', onData);
            return reject(new UsageError('cancelled'));
          }
          typed = char === '\u007f' ? typed.slice(0, -1) : typed + char;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
