import { ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { freePort } from '../../support/free-port';
import { mailbox, tokenFromMail } from '../../support/mailbox';
import { waitUntil } from '../../support/wait-until';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..', '..');
const SDK = join(REPO, 'packages', 'sdk');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `latchkey`, as a user runs it: the bin npm linked into node_modules/.bin of a scratch
 * project that installed the packed tarball, with its own environment (no inherited
 * LATCHKEY_* and a config folder of its own).
 */
describe('the latchkey CLI of the packed SDK, against a real Latchkey', () => {
  let sut: TestApp;
  let owner: UserSession;
  let scratch: string;

  const spawnCli = (args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams =>
    spawn(join(scratch, 'node_modules', '.bin', 'latchkey'), args, {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '', HOME: scratch, XDG_CONFIG_HOME: join(scratch, 'config'), ...env },
    });
  const cli = (args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawnCli(args, env);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  const asOwner = () => ({ LATCHKEY_URL: sut.baseUrl, LATCHKEY_TOKEN: owner.token });
  /** `--json` output, after checking the command exited 0 (its stderr in the failure message). */
  const cliJson = async <T = any>(args: string[], env: Record<string, string> = asOwner()): Promise<T> => {
    const result = await cli([...args, '--json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    return JSON.parse(result.stdout) as T;
  };
  const total = (rows: Array<{ total: number }>) => rows.reduce((sum, row) => sum + row.total, 0);
  /** A check as a guarded service makes it, straight to POST /v1/verify. */
  const verify = async (key: string, path = '/v1/orders'): Promise<string> => {
    const response = await sut.post('/v1/verify', { body: { key, method: 'GET', path } });
    expect(response.status).toBe(200);
    return response.body.data.code as string;
  };

  beforeAll(async () => {
    sut = await TestApp.start({
      config: { USAGE_FLUSH_MS: '50', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms' },
    });
    owner = await signUp(sut);
    scratch = await mkdtemp(join(tmpdir(), 'latchkey-cli-'));
    await run('npm', ['run', 'build:sdk'], { cwd: REPO });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: SDK });
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
    await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(scratch, filename)], { cwd: scratch });
  }, 180_000);

  afterAll(async () => {
    await sut?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('is linked as a bin from the tarball and bundles no monorepo import', async () => {
    const manifest = JSON.parse(await readFile(join(scratch, 'node_modules', '@latchkey', 'sdk', 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ latchkey: './dist/cli.cjs' });
    const bundle = await readFile(join(scratch, 'node_modules', '@latchkey', 'sdk', 'dist', 'cli.cjs'), 'utf8');
    expect(bundle.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(bundle).not.toMatch(/(?:from\s*|require\(|import\()\s*['"]@latchkey\//);
  });

  it('creates a key (secret once, with a warning), lists it and revokes it, as JSON', async () => {
    const created = await cli(['keys', 'create', '--name', 'ci-deploy', '--permission', 'orders:read', '--json'], asOwner());
    expect(created).toMatchObject({ code: 0 });
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ name: 'ci-deploy', environment: 'test', status: 'active', permissions: ['orders:read'] });
    expect(key.secret).toMatch(/^sk_test_/);
    expect(created.stderr).toContain('only time the secret is shown');

    const listed = await cli(['keys', 'list', '--json'], asOwner());
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; secret?: string }>;
    expect(keys.map((each) => each.id)).toContain(key.id);
    expect(listed.stdout).not.toContain(key.secret);

    const human = await cli(['keys', 'list'], asOwner());
    const [header, row] = human.stdout.split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+ENVIRONMENT\s+STATUS/);
    expect(row.indexOf('ci-deploy')).toBe(header.indexOf('NAME'));

    const revoked = await cli(['keys', 'revoke', key.id, '--json'], asOwner());
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: key.id, status: 'revoked' });
    const shown = await sut.get(`/v1/api-keys/${key.id}`, { token: owner.token });
    expect(shown.body.data.status).toBe('revoked');
  }, 60_000);

  it('works with a management key in LATCHKEY_TOKEN', async () => {
    const made = await sut.post('/v1/management-keys', { token: owner.token, body: { name: 'cli', role: 'developer' } });
    expect(made.status).toBe(201);
    const listed = await cli(['keys', 'list', '--json'], { LATCHKEY_URL: sut.baseUrl, LATCHKEY_TOKEN: made.body.data.token });
    expect(made.body.data.token).toMatch(/^lk_mgmt_/);
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
  }, 30_000);

  it('logs in with the password on stdin and saves the session token readable by its owner only', async () => {
    const login = await cli(
      ['login', '--email', owner.email, '--password-stdin', '--json'],
      { LATCHKEY_URL: sut.baseUrl },
      `${owner.password}\n`,
    );
    expect(login).toMatchObject({ code: 0 });
    const path = join(scratch, 'config', 'latchkey', 'credentials.json');
    expect(JSON.parse(login.stdout)).toMatchObject({ org_id: owner.orgId, role: 'owner', saved_to: path });
    expect(login.stdout + login.stderr).not.toContain(owner.password);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, 'utf8'));
    expect(login.stdout).not.toContain(saved.token);

    // The saved login is used when LATCHKEY_TOKEN is not set.
    const members = await cli(['members', 'list', '--json'], { LATCHKEY_URL: sut.baseUrl });
    expect(members.code).toBe(0);
    expect(JSON.parse(members.stdout)).toEqual([expect.objectContaining({ email: owner.email, role: 'owner' })]);

    // The email and the password both piped, one a line, and the token printed for export.
    const printed = await cli(['login', '--print'], { LATCHKEY_URL: sut.baseUrl }, `${owner.email}\n${owner.password}\n`);
    expect(printed.stdout).toMatch(/^export LATCHKEY_TOKEN=\S+\n$/);

    const wrong = await cli(['login', '--email', owner.email, '--password-stdin'], { LATCHKEY_URL: sut.baseUrl }, 'not-the-password');
    expect(wrong.code).toBe(3);
  }, 30_000);

  it('tells errors apart by exit code: 3 bad token, 5 unreachable, 2 bad flags, 4 not found', async () => {
    const badToken = await cli(['keys', 'list'], { LATCHKEY_URL: sut.baseUrl, LATCHKEY_TOKEN: 'not-a-token' });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toMatch(/^error: .*\(UNAUTHENTICATED, request req_/);

    const noToken = await cli(['keys', 'list'], { LATCHKEY_URL: sut.baseUrl, XDG_CONFIG_HOME: join(scratch, 'no-login') });
    expect(noToken.code).toBe(3);

    const unreachable = await cli(['keys', 'list', '--json'], {
      LATCHKEY_URL: `http://127.0.0.1:${await freePort()}`,
      LATCHKEY_TOKEN: owner.token,
    });
    expect(unreachable.code).toBe(5);
    expect(JSON.parse(unreachable.stderr).error).toMatchObject({ exit_code: 5, status: 503 });

    const unknownFlag = await cli(['keys', 'list', '--bogus'], asOwner());
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--bogus'");
    expect((await cli(['keys', 'get'], asOwner())).code).toBe(2);
    expect((await cli(['keys', 'frobnicate'], asOwner())).code).toBe(2);
    expect((await cli(['keys', 'list', '--environment', 'prod'], asOwner())).code).toBe(2);

    const missing = await cli(['keys', 'get', 'key_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'], asOwner());
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('NOT_FOUND');

    const webhooks = await cli(['webhooks', 'list', '--json'], asOwner());
    expect(webhooks).toMatchObject({ code: 0 });
    expect(JSON.parse(webhooks.stdout)).toEqual([]);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const recover = await cli(['webhooks', 'recover', 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I', '--since', since, '--json'], asOwner());
    expect(recover.code).toBe(4);
    expect(JSON.parse(recover.stderr).error).toMatchObject({ status: 404 });
    expect((await cli(['webhooks', 'recover', 'whe_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'], asOwner())).code).toBe(2);

    const help = await cli(['keys', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: latchkey keys create [flags]');
  }, 60_000);

  it('gets, rolls, disables and enables a key; only create and roll print a secret', async () => {
    const key = await cliJson(['keys', 'create', '--name', 'lifecycle']);
    expect(await verify(key.secret)).toBe('VALID');

    const got = await cliJson(['keys', 'get', key.id]);
    expect(got).toMatchObject({ id: key.id, name: 'lifecycle', status: 'active' });
    expect(got).not.toHaveProperty('secret');
    const shown = await cli(['keys', 'get', key.id], asOwner());
    expect(shown.stdout).toMatch(new RegExp(`^id\\s+${key.id}$`, 'm'));
    expect(shown.stdout).toMatch(/^status\s+active$/m);
    expect(shown.stdout + shown.stderr).not.toContain(key.secret);

    const rolled = await cli(['keys', 'roll', key.id, '--expire-old-in-seconds', '0', '--json'], asOwner());
    expect(rolled.code).toBe(0);
    const next = JSON.parse(rolled.stdout);
    expect(next.secret).toMatch(/^sk_test_/);
    expect(next.secret).not.toBe(key.secret);
    expect(rolled.stderr).toContain('only time the secret is shown');
    expect(await verify(next.secret)).toBe('VALID');

    // The human form prints the new secret on a line of its own, once.
    const again = await cli(['keys', 'roll', key.id, '--expire-old-in-seconds', '0'], asOwner());
    expect(again.code).toBe(0);
    const secretLines = again.stdout.split('\n').filter((line) => line.startsWith('secret'));
    expect(secretLines).toEqual([expect.stringMatching(/^secret\s+sk_test_\S+$/)]);
    const third = secretLines[0].split(/\s+/)[1];
    expect(await verify(third)).toBe('VALID');
    expect((await cli(['keys', 'list'], asOwner())).stdout).not.toContain(third);

    const disabled = await cliJson(['keys', 'disable', key.id]);
    expect(disabled).toMatchObject({ id: key.id, status: 'disabled' });
    expect(disabled).not.toHaveProperty('secret');
    expect(await verify(third)).toBe('DISABLED');

    const enabled = await cli(['keys', 'enable', key.id], asOwner());
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(/^status\s+active$/m);
    expect(enabled.stdout).not.toContain(third);
    expect(await verify(third)).toBe('VALID');

    expect((await cli(['keys', 'roll', key.id, '--expire-old-in-seconds', 'soon'], asOwner())).code).toBe(2);
    expect((await cli(['keys', 'disable'], asOwner())).code).toBe(2);
  }, 90_000);

  it('shows usage and logs of real checks, and logs --follow prints a new check as it comes, until stopped', async () => {
    const key = await cliJson(['keys', 'create', '--name', 'watched']);
    for (const path of ['/v1/a', '/v1/b', '/v1/c']) expect(await verify(key.secret, path)).toBe('VALID');

    // Counted by the usage worker: poll the public API until the three are in, then read them with the CLI.
    await waitUntil(
      async () => (await sut.get('/v1/logs', { token: owner.token, query: { key_id: key.id } })).body.data?.length === 3,
      20_000,
      'three request logs of the key',
    );
    const logs = await cliJson<Array<{ key_id: string; path: string; code: string }>>(['logs', '--key-id', key.id]);
    expect(logs.map((entry) => entry.path)).toEqual(['/v1/c', '/v1/b', '/v1/a']);
    expect(logs.every((entry) => entry.key_id === key.id && entry.code === 'VALID')).toBe(true);
    const table = (await cli(['logs', '--key-id', key.id, '--limit', '2'], asOwner())).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^AT\s+ID\s+KEY_ID\s+CODE\s+METHOD\s+PATH/);
    expect(table).toHaveLength(3);
    expect(table[1].slice(table[0].indexOf('PATH')).startsWith('/v1/c')).toBe(true);

    await waitUntil(
      async () => total((await sut.get(`/v1/api-keys/${key.id}/usage`, { token: owner.token })).body.data?.buckets ?? []) === 3,
      20_000,
      'the key usage to count three checks',
    );
    const usage = await cliJson(['usage', '--key', key.id]);
    expect(usage.key_id).toBe(key.id);
    expect(total(usage.buckets)).toBe(3);
    const org = await cliJson(['usage', '--group-by', 'code']);
    expect(org).toMatchObject({ group_by: 'code', groups: expect.arrayContaining([expect.objectContaining({ value: 'VALID' })]) });
    const human = await cli(['usage', '--group-by', 'code'], asOwner());
    expect(human.stdout).toMatch(/^group_by\s+code$/m);
    expect(human.stdout).toMatch(/^VALUE\s+TOTAL\s+CODES$/m);
    expect((await cli(['usage', '--group-by', 'colour'], asOwner())).code).toBe(2);

    // --follow: the table's header once the first page is printed, then each new check as its own line.
    const follower = spawnCli(['logs', '--key-id', key.id, '--follow', '--interval', '1'], asOwner());
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    const exited = once(follower, 'exit');
    try {
      await waitUntil(
        () => followed.split('\n').length === 5,
        20_000,
        () => `the header and three entries, got ${JSON.stringify(followed)}`,
      );
      expect(followed.split('\n')[0]).toMatch(/^AT\s+ID\s+KEY_ID/);
      expect(followed).not.toContain('/v1/followed');
      expect(await verify(key.secret, '/v1/followed')).toBe('VALID');
      await waitUntil(
        () => followed.includes('/v1/followed'),
        20_000,
        () => `the new check in ${JSON.stringify(followed)}`,
      );
      const lines = followed.trimEnd().split('\n');
      expect(lines.map((line) => /\/v1\/\w+/.exec(line)?.[0])).toEqual([undefined, '/v1/a', '/v1/b', '/v1/c', '/v1/followed']);
    } finally {
      follower.kill('SIGINT');
    }
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('creates a webhook endpoint (secret once), sends a test, lists, retries and recovers its deliveries', async () => {
    // An organisation of its own, so that no other test's events reach this endpoint.
    const admin = await signUp(sut);
    const asAdmin = { LATCHKEY_URL: sut.baseUrl, LATCHKEY_TOKEN: admin.token };
    const receiver = await startReceiver();
    try {
      receiver.status = 500;
      const created = await cli(['webhooks', 'create', '--url', receiver.url, '--description', 'cli', '--json'], asAdmin);
      expect(created.code).toBe(0);
      const endpoint = JSON.parse(created.stdout);
      expect(endpoint).toMatchObject({ url: receiver.url, events: ['*'], environment: 'test', status: 'enabled' });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect(created.stderr).toContain('only time the secret is shown');
      const listed = await cli(['webhooks', 'list'], asAdmin);
      expect(listed.stdout.split('\n')[1]).toMatch(new RegExp(`^${endpoint.id}\\s+${receiver.url.replace(/[.?]/g, '\\$&')}`));
      expect(listed.stdout).not.toContain(endpoint.secret);

      const deliveriesOf = async (status: string) =>
        (await sut.get(`/v1/webhooks/${endpoint.id}/deliveries`, { token: admin.token, query: { status } })).body.data as Array<{
          id: string;
        }>;

      // A test event to a receiver answering 500: it fails after its retry.
      const sent = await cliJson(['webhooks', 'test', endpoint.id], asAdmin);
      expect(sent).toMatchObject({ endpoint_id: endpoint.id, type: 'webhook.test', event_id: expect.any(String) });
      await waitUntil(async () => (await deliveriesOf('failed')).length === 1, 20_000, 'the test delivery to fail');
      expect(receiver.received.filter((hook) => hook.type === 'webhook.test').length).toBeGreaterThanOrEqual(2);
      const [failed] = await cliJson(['webhooks', 'deliveries', endpoint.id, '--status', 'failed'], asAdmin);
      expect(failed).toMatchObject({ event_type: 'webhook.test', status: 'failed' });
      const table = (await cli(['webhooks', 'deliveries', endpoint.id], asAdmin)).stdout.split('\n');
      expect(table[0]).toMatch(/^ID\s+EVENT_TYPE\s+STATUS\s+ATTEMPT_COUNT/);
      expect(table[1]).toMatch(new RegExp(`^${failed.id}\\s+webhook\\.test\\s+failed\\s`));

      // The receiver is fixed: retry sends that delivery again, and it succeeds.
      receiver.status = 200;
      const retried = await cliJson(['webhooks', 'retry', failed.id], asAdmin);
      expect(retried).toMatchObject({ id: failed.id, status: 'pending' });
      await waitUntil(async () => (await deliveriesOf('succeeded')).length === 1, 20_000, 'the retried delivery to succeed');

      // Broken again for a second test event; recover re-sends every failed one since a time.
      receiver.status = 500;
      const since = new Date(Date.now() - 60_000).toISOString();
      await cliJson(['webhooks', 'test', endpoint.id], asAdmin);
      await waitUntil(async () => (await deliveriesOf('failed')).length === 1, 20_000, 'the second test delivery to fail');
      receiver.status = 200;
      const recovered = await cli(['webhooks', 'recover', endpoint.id, '--since', since], asAdmin);
      expect(recovered.code).toBe(0);
      expect(recovered.stdout).toMatch(/^recovered\s+1$/m);
      await waitUntil(async () => (await deliveriesOf('succeeded')).length === 2, 20_000, 'the recovered delivery to succeed');
      expect(await cliJson(['webhooks', 'recover', endpoint.id, '--since', since], asAdmin)).toEqual({ recovered: 0, since });
      expect(receiver.received.filter((hook) => hook.status === 200)).toHaveLength(2);

      expect((await cli(['webhooks', 'create'], asAdmin)).code).toBe(2);
      expect((await cli(['webhooks', 'retry', 'del_01JD2Z6K3S9Q4W8E7R5T1Y0U2I'], asAdmin)).code).toBe(4);
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('invites a member, lists the invitation, changes the role and removes them', async () => {
    const person = await signUp(sut, { orgName: 'their own org' });
    const invited = await cliJson(['members', 'invite', '--email', person.email, '--role', 'developer']);
    expect(invited).toMatchObject({ email: person.email, role: 'developer', status: 'invited' });
    const invitations = await cli(['members', 'invitations'], asOwner());
    expect(invitations.stdout).toMatch(new RegExp(`^${invited.id}\\s+${person.email.replace(/[.]/g, '\\.')}\\s+developer\\s+invited`, 'm'));

    const token = tokenFromMail(mailbox(sut), person.email, '/console/invitations/accept');
    expect((await sut.post('/v1/invitations/accept', { token: person.token, body: { token } })).status).toBe(201);
    const members = await cliJson<Array<{ id: string; email: string; role: string }>>(['members', 'list']);
    const member = members.find((each) => each.email === person.email);
    expect(member).toMatchObject({ role: 'developer' });

    const changed = await cli(['members', 'set-role', member!.id, '--role', 'viewer'], asOwner());
    expect(changed.code).toBe(0);
    expect(changed.stdout).toMatch(/^role\s+viewer$/m);
    const removed = await cliJson(['members', 'remove', member!.id]);
    expect(removed).toMatchObject({ id: member!.id, email: person.email });
    expect((await cliJson<Array<{ email: string }>>(['members', 'list'])).map((each) => each.email)).not.toContain(person.email);

    expect((await cli(['members', 'invite', '--email', person.email], asOwner())).code).toBe(2);
    expect((await cli(['members', 'invite', '--email', person.email, '--role', 'boss'], asOwner())).code).toBe(2);
    expect((await cli(['members', 'remove', member!.id], asOwner())).code).toBe(4);
  }, 60_000);
});

interface Receiver {
  url: string;
  /** What the receiver answers next. */
  status: number;
  received: Array<{ type: string; status: number }>;
  close(): Promise<void>;
}

/** A webhook subscriber on 127.0.0.1 that answers `status` and records each event type it got. */
async function startReceiver(): Promise<Receiver> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { type } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string };
      receiver.received.push({ type, status: receiver.status });
      response.writeHead(receiver.status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    status: 200,
    received: [],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
  return receiver;
}
