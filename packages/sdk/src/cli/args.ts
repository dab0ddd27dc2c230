import { parseArgs, ParseArgsConfig } from 'node:util';

import { UsageError } from './exit-codes';

type Options = NonNullable<ParseArgsConfig['options']>;

/** One command of the CLI: its words (`keys create`), positional arguments, flags and help. */
export interface CommandSpec {
  path: readonly string[];
  summary: string;
  /** Positional arguments, all required, e.g. `['id']`. */
  args?: readonly string[];
  options?: Options;
  /** One line per flag for `--help`, in the order shown. */
  flags?: readonly string[];
}

/** Flags every command takes. */
export const GLOBAL_OPTIONS: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface ParsedCommand {
  spec: CommandSpec;
  positionals: Record<string, string>;
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
}

export type Parsed = { kind: 'help'; text: string } | { kind: 'command'; command: ParsedCommand };

/**
 * Turns argv (without node and the script) into one command of `specs`, or its help.
 * Unknown commands, unknown flags, a flag missing its value and a wrong number of
 * positional arguments are UsageErrors (exit 2), never guessed at.
 */
export function parseCommand(argv: readonly string[], specs: readonly CommandSpec[]): Parsed {
  const words = argv.filter((each) => !each.startsWith('-'));
  const spec = [...specs]
    .sort((a, b) => b.path.length - a.path.length)
    .find((candidate) => candidate.path.every((word, index) => words[index] === word));
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!spec) {
    if (words.length === 0 || wantsHelp || words[0] === 'help') {
      const group = words[0] === 'help' ? [] : words;
      const text = overview(specs, group);
      if (text) return { kind: 'help', text };
    }
    const group = overview(specs, words.slice(0, 1));
    if (words.length === 1 && group) throw new UsageError(`latchkey ${words[0]} needs a command\n\n${group}`);
    throw new UsageError(`unknown command: ${words.join(' ') || '(none)'}; see latchkey --help`);
  }
  const rest = [...argv];
  for (const word of spec.path) rest.splice(rest.indexOf(word), 1);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...spec.options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}; see latchkey ${spec.path.join(' ')} --help`,
    );
  }
  if (parsed.values.help) return { kind: 'help', text: commandHelp(spec) };
  const names = spec.args ?? [];
  if (parsed.positionals.length !== names.length) {
    const expected = names.length ? names.map((name) => `<${name}>`).join(' ') : 'no arguments';
    throw new UsageError(`latchkey ${spec.path.join(' ')} takes ${expected}; see latchkey ${spec.path.join(' ')} --help`);
  }
  const positionals = Object.fromEntries(names.map((name, index) => [name, parsed.positionals[index]]));
  const values = parsed.values as ParsedCommand['values'];
  return { kind: 'command', command: { spec, positionals, values, json: values.json === true } };
}

/** A flag's value as a whole number, or a UsageError naming the flag. */
export function integerFlag(values: ParsedCommand['values'], name: string, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min) {
    throw new UsageError(`--${name} must be a whole number of at least ${min}`);
  }
  return Number(raw);
}

/** A flag's value that must be one of `allowed`. */
export function choiceFlag<T extends string>(values: ParsedCommand['values'], name: string, allowed: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !allowed.includes(raw as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export function stringFlag(values: ParsedCommand['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function listFlag(values: ParsedCommand['values'], name: string): string[] | undefined {
  const raw = values[name];
  return Array.isArray(raw) ? raw : undefined;
}

export function commandHelp(spec: CommandSpec): string {
  const args = (spec.args ?? []).map((name) => ` <${name}>`).join('');
  const flags = [...(spec.flags ?? []), '--json                     machine-readable output', '-h, --help                 this help'];
  return [
    `Usage: latchkey ${spec.path.join(' ')}${args} [flags]`,
    '',
    spec.summary,
    '',
    'Flags:',
    ...flags.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

function overview(specs: readonly CommandSpec[], group: readonly string[]): string | null {
  const shown = specs.filter((spec) => group.every((word, index) => spec.path[index] === word));
  if (shown.length === 0) return null;
  const width = Math.max(...shown.map((spec) => usageLine(spec).length));
  return [
    `Usage: latchkey ${group.length ? group.join(' ') + ' ' : ''}<command> [flags]`,
    '',
    'Commands:',
    ...shown.map((spec) => `  ${usageLine(spec).padEnd(width)}  ${spec.summary}`),
    '',
    'Environment: LATCHKEY_URL (the API, without /v1), LATCHKEY_TOKEN (a session token or a management key).',
    'Exit codes: 0 ok, 2 usage error, 3 auth error (401/403), 4 API error (other 4xx), 5 unavailable (no answer, 5xx).',
    'Run latchkey <command> --help for its flags.',
    '',
  ].join('\n');
}

function usageLine(spec: CommandSpec): string {
  return [spec.path.join(' '), ...(spec.args ?? []).map((name) => `<${name}>`)].join(' ');
}
