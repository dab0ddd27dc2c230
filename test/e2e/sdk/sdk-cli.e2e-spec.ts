import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { TestApp } from '../../support/create-test-app';
import { signUp, UserSession } from '../../support/factories';
import { freePort } from '../../support/free-port';

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

  const cli = (args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(join(scratch, 'node_modules', '.bin', 'latchkey'), args, {
        cwd: scratch,
        env: { PATH: process.env.PATH ?? '', HOME: scratch, XDG_CONFIG_HOME: join(scratch, 'config'), ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  const asOwner = () => ({ LATCHKEY_URL: sut.baseUrl, LATCHKEY_TOKEN: owner.token });

  beforeAll(async () => {
    sut = await TestApp.start();
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
});
