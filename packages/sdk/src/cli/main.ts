import { LatchkeyError } from '../core/errors';
import { parseCommand } from './args';
import { Command, COMMANDS } from './commands';
import { ExitCode, exitCodeFor, UsageError } from './exit-codes';
import { Io } from './output';

/**
 * The `latchkey` CLI without the process around it: argv in, exit code out (docs/sdk.md#the-cli).
 * Errors are printed to stderr (as `{ "error": … }` with --json), never thrown.
 */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io, signal?: AbortSignal): Promise<number> {
  const asJson = argv.includes('--json');
  try {
    const parsed = parseCommand(argv, COMMANDS);
    if (parsed.kind === 'help') {
      io.out(parsed.text);
      return ExitCode.Ok;
    }
    const command = parsed.command.spec as Command;
    await command.run({ command: parsed.command, env, io, signal });
    return ExitCode.Ok;
  } catch (error) {
    const code = exitCodeFor(error);
    io.err(asJson ? JSON.stringify({ error: describe(error, code) }) + '\n' : humanError(error));
    return code;
  }
}

function describe(error: unknown, exitCode: number): Record<string, unknown> {
  if (error instanceof LatchkeyError) {
    return {
      exit_code: exitCode,
      status: error.status,
      code: error.code,
      message: error.message,
      details: error.details,
      request_id: error.requestId,
    };
  }
  const code = error instanceof UsageError ? 'USAGE' : exitCode === ExitCode.Auth ? 'NOT_LOGGED_IN' : 'CLI_ERROR';
  return { exit_code: exitCode, code, message: error instanceof Error ? error.message : String(error) };
}

function humanError(error: unknown): string {
  if (!(error instanceof LatchkeyError)) return `error: ${error instanceof Error ? error.message : String(error)}\n`;
  const lines = [`error: ${error.message} (${error.code}${error.requestId ? `, request ${error.requestId}` : ''})`];
  for (const detail of error.details) lines.push(`  ${detail.field ? `${detail.field}: ` : ''}${detail.message}`);
  return lines.join('\n') + '\n';
}
