import { Latchkey } from '../management/latchkey';
import { choiceFlag, CommandSpec, integerFlag, listFlag, ParsedCommand, stringFlag } from './args';
import { forgetLogin, readLogin, saveLogin } from './credentials';
import { NotLoggedInError, UsageError } from './exit-codes';
import { Io, json, record, table } from './output';
import { promptHidden, promptLine } from './prompt';

export interface Context {
  command: ParsedCommand;
  env: NodeJS.ProcessEnv;
  io: Io;
  /** Stops `logs --follow` (a signal in the binary, the test's own in a test). */
  signal?: AbortSignal;
}

type Handler = (context: Context) => Promise<void>;

export interface Command extends CommandSpec {
  run: Handler;
}

const ENVIRONMENTS = ['test', 'live'] as const;
const KEY_COLUMNS = ['id', 'name', 'environment', 'status', 'masked', 'expires_at', 'last_used_at'];
const KEY_FIELDS = [...KEY_COLUMNS, 'permissions', 'created_at', 'revoked_at', 'disabled_at'];
const SECRET_WARNING = 'This is the only time the secret is shown: store it now (a secret manager, not a file in git).';

/** The API's address: LATCHKEY_URL, else where `latchkey login` logged in. */
async function baseUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const url = env.LATCHKEY_URL || (await readLogin(env))?.url;
  if (!url) throw new UsageError('set LATCHKEY_URL to the Latchkey API (e.g. https://latchkey.example.com)');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`LATCHKEY_URL must start with http:// or https:// (got ${url})`);
  return url;
}

/** A client with LATCHKEY_TOKEN, else the saved login's token (when it is for the same URL). */
async function client({ env }: Context): Promise<Latchkey> {
  const url = await baseUrl(env);
  const saved = await readLogin(env);
  const token = env.LATCHKEY_TOKEN || (saved && saved.url === url ? saved.token : undefined);
  if (!token) throw new NotLoggedInError('not logged in: run latchkey login, or set LATCHKEY_TOKEN (a session token or a management key)');
  return new Latchkey({ baseUrl: url, token, headers: { 'user-agent': 'latchkey-cli' } });
}

function print(context: Context, value: unknown, human: () => string): void {
  context.io.out(context.command.json ? json(value) : human());
}

function printSecret(context: Context, value: { secret?: unknown } & Record<string, unknown>, fields: readonly string[]): void {
  print(context, value, () => record(value, fields) + `\nsecret  ${String(value.secret)}\n`);
  context.io.err(`warning: ${SECRET_WARNING}\n`);
}

async function collect<T>(items: AsyncIterable<T>, limit: number | undefined): Promise<T[]> {
  const out: T[] = [];
  if (limit === 0) return out;
  for await (const item of items) {
    out.push(item);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

const keyCommand = (verb: 'disable' | 'enable' | 'revoke', summary: string): Command => ({
  path: ['keys', verb],
  summary,
  args: ['id'],
  run: async (context) => {
    const key = await (await client(context)).keys[verb](context.command.positionals.id);
    print(context, key, () => record(key, KEY_FIELDS));
  },
});

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * The entries of a newest-first list (ids that sort by time, as log ids do) newer than
 * `newest`, oldest first: pages are asked for by cursor only until `newest` is reached.
 */
export async function newerThan<T extends { id: string }>(newestFirst: AsyncIterable<T>, newest: string): Promise<T[]> {
  const fresh: T[] = [];
  for await (const entry of newestFirst) {
    if (entry.id <= newest) break;
    fresh.push(entry);
  }
  return fresh.reverse();
}

const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
const MEMBER_COLUMNS = ['id', 'email', 'name', 'role', 'created_at'];

const LOG_COLUMNS = ['at', 'id', 'key_id', 'code', 'method', 'path', 'ip', 'latency_us'];

export const COMMANDS: readonly Command[] = [
  {
    path: ['login'],
    summary: 'Log in with your email and password; saves the session token (0600) or prints it with --print',
    options: {
      email: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      org: { type: 'string' },
      print: { type: 'boolean' },
    },
    flags: [
      '--email <email>     asked for when missing',
      '--password-stdin    read the password from stdin (else asked for, not echoed)',
      '--org <org_id>      the organisation to act in (default: your oldest membership)',
      '--print             print `export LATCHKEY_TOKEN=…` instead of saving the token',
    ],
    run: async (context) => {
      const { values } = context.command;
      const url = await baseUrl(context.env);
      const email = stringFlag(values, 'email') ?? (await promptLine('Email: '));
      const password = values['password-stdin'] ? await promptLine('') : await promptHidden('Password: ');
      if (!email || !password) throw new UsageError('an email and a password are needed');
      const org = stringFlag(values, 'org');
      const session = await new Latchkey({ baseUrl: url }).http.request<{
        token: string;
        expires_at: string;
        role: string;
        org: { id: string };
      }>('POST', '/v1/auth/login', { body: { email, password, ...(org ? { org_id: org } : {}) } });
      if (values.print) {
        context.io.out(`export LATCHKEY_TOKEN=${session.token}\n`);
        return;
      }
      const path = await saveLogin(context.env, { url, token: session.token, expires_at: session.expires_at });
      const summary = { org_id: session.org.id, role: session.role, expires_at: session.expires_at, saved_to: path };
      print(context, summary, () => record(summary));
    },
  },
  {
    path: ['logout'],
    summary: 'Forget the saved login',
    run: async (context) => {
      await forgetLogin(context.env);
      if (!context.command.json) context.io.err('logged out\n');
    },
  },
  {
    path: ['keys', 'create'],
    summary: 'Create an API key; its secret is printed once',
    options: {
      name: { type: 'string' },
      environment: { type: 'string' },
      permission: { type: 'string', multiple: true },
      description: { type: 'string' },
      'expires-in-days': { type: 'string' },
      signing: { type: 'boolean' },
    },
    flags: [
      '--name <name>              required',
      '--environment test|live    default test',
      '--permission <perm>        repeat for each, e.g. --permission payments:read',
      '--description <text>',
      '--expires-in-days <n>      one of the organisation\u2019s expiry presets',
      '--signing                  a signing key (requests carry x-signature)',
    ],
    run: async (context) => {
      const { values } = context.command;
      const name = stringFlag(values, 'name');
      if (!name) throw new UsageError('--name is required; see latchkey keys create --help');
      const expiresInDays = integerFlag(values, 'expires-in-days', 1);
      const description = stringFlag(values, 'description');
      const permissions = listFlag(values, 'permission');
      const key = await (
        await client(context)
      ).keys.create({
        name,
        environment: choiceFlag(values, 'environment', ENVIRONMENTS) ?? 'test',
        signing: values.signing === true,
        ...(description !== undefined ? { description } : {}),
        ...(permissions ? { permissions } : {}),
        ...(expiresInDays !== undefined ? { expires_in_days: expiresInDays } : {}),
      });
      printSecret(context, key, KEY_FIELDS);
    },
  },
  {
    path: ['keys', 'list'],
    summary: 'List API keys (every page, or the first --limit)',
    options: { status: { type: 'string' }, environment: { type: 'string' }, search: { type: 'string' }, limit: { type: 'string' } },
    flags: [
      '--status <status>        active, disabled, revoked, expired…',
      '--environment test|live',
      '--search <text>          in names',
      '--limit <n>              at most n keys',
    ],
    run: async (context) => {
      const { values } = context.command;
      const status = stringFlag(values, 'status');
      const search = stringFlag(values, 'search');
      const environment = choiceFlag(values, 'environment', ENVIRONMENTS);
      const limit = integerFlag(values, 'limit');
      const query = {
        ...(status ? { status } : {}),
        ...(search ? { search } : {}),
        ...(environment ? { environment } : {}),
        limit: Math.min(limit || 100, 100),
      } as Parameters<Latchkey['keys']['list']>[0];
      const keys = await collect((await client(context)).keys.list(query), limit);
      print(context, keys, () => table(keys, KEY_COLUMNS));
    },
  },
  {
    path: ['keys', 'get'],
    summary: 'Show one API key',
    args: ['id'],
    run: async (context) => {
      const key = await (await client(context)).keys.get(context.command.positionals.id);
      print(context, key, () => record(key, KEY_FIELDS));
    },
  },
  {
    path: ['keys', 'roll'],
    summary: 'Give a key a new secret (printed once); the old one works for a grace period',
    args: ['id'],
    options: { 'expire-old-in-seconds': { type: 'string' } },
    flags: ['--expire-old-in-seconds <n>   how long the old secret keeps working (server default: 24 h)'],
    run: async (context) => {
      const seconds = integerFlag(context.command.values, 'expire-old-in-seconds');
      const key = await (
        await client(context)
      ).keys.roll(context.command.positionals.id, seconds === undefined ? {} : { expire_old_in_seconds: seconds });
      printSecret(context, key, KEY_FIELDS);
    },
  },
  keyCommand('disable', 'Disable a key (verifications fail until enabled)'),
  keyCommand('enable', 'Enable a disabled key'),
  keyCommand('revoke', 'Revoke a key for good'),
  {
    path: ['usage'],
    summary: "The organisation's usage, or one key's with --key",
    options: {
      key: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'group-by': { type: 'string' },
      environment: { type: 'string' },
    },
    flags: [
      '--key <key_id>                          one key instead of the organisation',
      '--from <iso time>  --to <iso time>      the window (server default when missing)',
      '--group-by key|owner|code|environment   default key (organisation usage only)',
      '--environment test|live',
    ],
    run: async (context) => {
      const { values } = context.command;
      const window = {
        ...(stringFlag(values, 'from') ? { from: stringFlag(values, 'from') } : {}),
        ...(stringFlag(values, 'to') ? { to: stringFlag(values, 'to') } : {}),
      };
      const latchkey = await client(context);
      const keyId = stringFlag(values, 'key');
      const groupBy = choiceFlag(values, 'group-by', ['key', 'owner', 'code', 'environment'] as const) ?? 'key';
      const environment = choiceFlag(values, 'environment', ENVIRONMENTS);
      const usage = keyId
        ? await latchkey.usage.key(keyId, window)
        : await latchkey.usage.org({ ...window, group_by: groupBy, ...(environment ? { environment } : {}) });
      print(context, usage, () => {
        const shown = usage as unknown as Record<string, unknown>;
        const rows = Object.values(shown).find(Array.isArray) as Array<Record<string, unknown>> | undefined;
        const scalars = Object.fromEntries(Object.entries(shown).filter(([, value]) => !Array.isArray(value)));
        return record(scalars) + (rows?.length ? '\n' + table(rows, Object.keys(rows[0])) : '');
      });
    },
  },
  {
    path: ['logs'],
    summary: 'Recent verification logs, newest first; --follow prints new ones as they come',
    options: {
      'key-id': { type: 'string' },
      code: { type: 'string' },
      environment: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      interval: { type: 'string' },
    },
    flags: [
      '--key-id <id>  --code <code>  --environment test|live  --from <iso>  --to <iso>',
      '--limit <n>          at most n entries (default 50)',
      '-f, --follow         keep polling and print new entries, oldest first (one JSON object a line with --json)',
      '--interval <s>       seconds between polls with --follow (default 2)',
    ],
    run: async (context) => {
      const { values, json: asJson } = context.command;
      const query = Object.fromEntries(
        (['key-id', 'code', 'from', 'to'] as const).flatMap((flag) => {
          const value = stringFlag(values, flag);
          return value ? [[flag.replace('-', '_'), value]] : [];
        }),
      );
      const environment = choiceFlag(values, 'environment', ENVIRONMENTS);
      if (environment) query.environment = environment;
      const limit = integerFlag(values, 'limit', 1) ?? 50;
      const intervalMs = (integerFlag(values, 'interval', 1) ?? 2) * 1000;
      const latchkey = await client(context);
      const list = (pageSize: number) => latchkey.logs.list({ ...query, limit: pageSize });
      const recent = await collect(list(Math.min(limit, 100)), limit);
      const line = (entry: Record<string, unknown>) =>
        asJson ? JSON.stringify(entry) + '\n' : table([entry], LOG_COLUMNS).split('\n')[1] + '\n';
      if (!values.follow) {
        print(context, recent, () => table(recent, LOG_COLUMNS));
        return;
      }
      // Following: the oldest first, then each poll pages back by cursor to the last one printed.
      if (!asJson) context.io.out(table([], LOG_COLUMNS));
      for (const entry of [...recent].reverse()) context.io.out(line(entry));
      let newest = (recent[0] as { id?: string } | undefined)?.id ?? '';
      while (!context.signal?.aborted) {
        await sleep(intervalMs, context.signal);
        if (context.signal?.aborted) break;
        const fresh = await newerThan(list(100), newest);
        for (const entry of fresh) context.io.out(line(entry));
        if (fresh.length) newest = fresh[fresh.length - 1].id;
      }
    },
  },
  {
    path: ['webhooks', 'create'],
    summary: 'Create a webhook endpoint; its signing secret is printed once',
    options: {
      url: { type: 'string' },
      environment: { type: 'string' },
      event: { type: 'string', multiple: true },
      description: { type: 'string' },
    },
    flags: [
      '--url <https url>          required',
      '--environment test|live    whose events it receives (and organisation-wide ones); default test',
      '--event <type>             repeat for each; default * (every event)',
      '--description <text>',
    ],
    run: async (context) => {
      const { values } = context.command;
      const url = stringFlag(values, 'url');
      if (!url) throw new UsageError('--url is required; see latchkey webhooks create --help');
      const description = stringFlag(values, 'description');
      const endpoint = await (
        await client(context)
      ).webhooks.create({
        url,
        environment: choiceFlag(values, 'environment', ENVIRONMENTS) ?? 'test',
        events: (listFlag(values, 'event') ?? ['*']) as Parameters<Latchkey['webhooks']['create']>[0]['events'],
        ...(description !== undefined ? { description } : {}),
      });
      printSecret(context, endpoint, ['id', 'url', 'events', 'environment', 'status', 'created_at']);
    },
  },
  {
    path: ['webhooks', 'list'],
    summary: 'List webhook endpoints',
    run: async (context) => {
      const endpoints = await collect((await client(context)).webhooks.list({ limit: 100 }), undefined);
      print(context, endpoints, () => table(endpoints, ['id', 'url', 'events', 'status', 'failing_since']));
    },
  },
  {
    path: ['webhooks', 'test'],
    summary: 'Send a webhook.test event to an endpoint',
    args: ['id'],
    run: async (context) => {
      const sent = await (await client(context)).webhooks.sendTest(context.command.positionals.id);
      print(context, sent, () => record(sent));
    },
  },
  {
    path: ['webhooks', 'deliveries'],
    summary: "An endpoint's deliveries, newest first",
    args: ['id'],
    options: { status: { type: 'string' }, limit: { type: 'string' } },
    flags: ['--status <status>   pending, succeeded, failed…', '--limit <n>         at most n (default 50)'],
    run: async (context) => {
      const { values, positionals } = context.command;
      const limit = integerFlag(values, 'limit', 1) ?? 50;
      const status = stringFlag(values, 'status');
      const query = { limit: Math.min(limit, 100), ...(status ? { status } : {}) } as Parameters<Latchkey['webhooks']['deliveries']>[1];
      const deliveries = await collect((await client(context)).webhooks.deliveries(positionals.id, query), limit);
      print(context, deliveries, () => table(deliveries, ['id', 'event_type', 'status', 'attempt_count', 'next_attempt_at', 'created_at']));
    },
  },
  {
    path: ['webhooks', 'retry'],
    summary: 'Retry one delivery now',
    args: ['delivery_id'],
    run: async (context) => {
      const delivery = await (await client(context)).webhooks.retryDelivery(context.command.positionals.delivery_id);
      print(context, delivery, () => record(delivery, ['id', 'event_type', 'status', 'attempt_count', 'next_attempt_at']));
    },
  },
  {
    path: ['webhooks', 'recover'],
    summary: "Re-send an endpoint's failed deliveries since a time (at most 14 days ago)",
    args: ['id'],
    options: { since: { type: 'string' } },
    flags: ['--since <iso time>   required'],
    run: async (context) => {
      const since = stringFlag(context.command.values, 'since');
      if (!since) throw new UsageError('--since is required; see latchkey webhooks recover --help');
      const latchkey = await client(context);
      const recovered = await latchkey.webhooks.recover(context.command.positionals.id, { since });
      print(context, recovered, () => record(recovered));
    },
  },
  {
    path: ['members', 'list'],
    summary: "The organisation's members",
    run: async (context) => {
      const members = await collect((await client(context)).members.list({ limit: 100 }), undefined);
      print(context, members, () => table(members, MEMBER_COLUMNS));
    },
  },
  {
    path: ['members', 'invite'],
    summary: 'Invite someone by email; they join when they accept the mailed link',
    options: { email: { type: 'string' }, role: { type: 'string' } },
    flags: ['--email <email>                     required', `--role ${ROLES.join('|')}   required`],
    run: async (context) => {
      const { values } = context.command;
      const email = stringFlag(values, 'email');
      const role = choiceFlag(values, 'role', ROLES);
      if (!email || !role) throw new UsageError('--email and --role are required; see latchkey members invite --help');
      const invitation = await (await client(context)).members.invite({ email, role });
      print(context, invitation, () => record(invitation, ['id', 'email', 'role', 'status', 'expires_at']));
    },
  },
  {
    path: ['members', 'invitations'],
    summary: 'Invitations not accepted yet',
    run: async (context) => {
      const invitations = await collect((await client(context)).members.invitations({ limit: 100 }), undefined);
      print(context, invitations, () => table(invitations, ['id', 'email', 'role', 'status', 'expires_at']));
    },
  },
  {
    path: ['members', 'set-role'],
    summary: "Change a member's role (by membership id, from members list)",
    args: ['id'],
    options: { role: { type: 'string' } },
    flags: [`--role ${ROLES.join('|')}   required`],
    run: async (context) => {
      const role = choiceFlag(context.command.values, 'role', ROLES);
      if (!role) throw new UsageError('--role is required; see latchkey members set-role --help');
      const member = await (await client(context)).members.changeRole(context.command.positionals.id, { role });
      print(context, member, () => record(member, MEMBER_COLUMNS));
    },
  },
  {
    path: ['members', 'remove'],
    summary: 'Remove a member (your own membership id: leave the organisation)',
    args: ['id'],
    run: async (context) => {
      const member = await (await client(context)).members.remove(context.command.positionals.id);
      print(context, member, () => record(member, MEMBER_COLUMNS));
    },
  },
];
