import { choiceFlag, CommandSpec, integerFlag, parseCommand } from './args';
import { UsageError } from './exit-codes';

const SPECS: CommandSpec[] = [
  { path: ['keys', 'create'], summary: 'Create', options: { name: { type: 'string' }, permission: { type: 'string', multiple: true } } },
  { path: ['keys', 'get'], summary: 'Get one', args: ['id'] },
  { path: ['logs'], summary: 'Logs', options: { follow: { type: 'boolean', short: 'f' } } },
];

const command = (argv: string[]) => {
  const parsed = parseCommand(argv, SPECS);
  if (parsed.kind !== 'command') throw new Error(`expected a command, got help: ${parsed.text}`);
  return parsed.command;
};

describe('parseCommand', () => {
  it('finds the command by its words and reads its flags, repeated ones as a list', () => {
    const parsed = command(['keys', 'create', '--name', 'Checkout', '--permission', 'a:read', '--permission', 'b:write', '--json']);
    expect(parsed.spec.path).toEqual(['keys', 'create']);
    expect(parsed.values).toMatchObject({ name: 'Checkout', permission: ['a:read', 'b:write'] });
    expect(parsed.json).toBe(true);
  });

  it('takes global flags before the command and short flags', () => {
    expect(command(['--json', 'logs', '-f'])).toMatchObject({ json: true, values: { follow: true } });
  });

  it('names positional arguments', () => {
    expect(command(['keys', 'get', 'key_123']).positionals).toEqual({ id: 'key_123' });
  });

  it.each([
    [['keys', 'list'], /unknown command: keys list/],
    [['nope'], /unknown command: nope/],
    [['keys', 'create', '--bogus'], /Unknown option '--bogus'/],
    [['keys', 'create', '--name'], /--name/],
    [['keys', 'get'], /takes <id>/],
    [['keys', 'get', 'a', 'b'], /takes <id>/],
    [['logs', 'extra'], /takes no arguments/],
  ])('refuses %j as a usage error', (argv, message) => {
    expect(() => parseCommand(argv, SPECS)).toThrow(UsageError);
    expect(() => parseCommand(argv, SPECS)).toThrow(message);
  });

  it('refuses a group without its command, listing the commands it has', () => {
    expect(() => parseCommand(['keys'], SPECS)).toThrow(UsageError);
    expect(() => parseCommand(['keys'], SPECS)).toThrow(/latchkey keys needs a command[\s\S]*keys create[\s\S]*keys get <id>/);
  });

  it("answers --help with the command's own help, and with the overview for a group or nothing", () => {
    const own = parseCommand(['keys', 'get', '--help'], SPECS);
    expect(own).toEqual({ kind: 'help', text: expect.stringContaining('Usage: latchkey keys get <id> [flags]') });
    const group = parseCommand(['keys', '--help'], SPECS);
    expect(group.kind === 'help' && group.text).toContain('keys create');
    expect(group.kind === 'help' && group.text).not.toContain('logs');
    const all = parseCommand([], SPECS);
    expect(all.kind === 'help' && all.text).toContain('Exit codes: 0 ok, 2 usage error, 3 auth error');
  });
});

describe('flag values', () => {
  it('reads whole numbers and refuses anything else', () => {
    expect(integerFlag({ limit: '20' }, 'limit')).toBe(20);
    expect(integerFlag({}, 'limit')).toBeUndefined();
    for (const bad of ['-1', '1.5', 'ten', '']) expect(() => integerFlag({ limit: bad }, 'limit')).toThrow(UsageError);
    expect(() => integerFlag({ limit: '0' }, 'limit', 1)).toThrow('--limit must be a whole number of at least 1');
  });

  it('takes a choice only from its list', () => {
    expect(choiceFlag({ environment: 'live' }, 'environment', ['test', 'live'])).toBe('live');
    expect(() => choiceFlag({ environment: 'prod' }, 'environment', ['test', 'live'])).toThrow('--environment must be one of test, live');
  });
});
