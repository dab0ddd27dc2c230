#!/usr/bin/env node
/** The `latchkey` binary of the package (docs/sdk.md#the-cli). */
import { runCli } from './cli/main';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
void runCli(
  process.argv.slice(2),
  process.env,
  { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  stop.signal,
).then((code) => {
  process.exitCode = code;
});
