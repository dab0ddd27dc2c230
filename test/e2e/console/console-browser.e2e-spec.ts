import { readFileSync } from 'node:fs';

import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

import { ensureConsoleBuilt } from '../../support/console-build';
import { TestApp } from '../../support/create-test-app';
import { inviteAndAccept, logIn, signUp, TEST_PASSWORD, uniqueEmail } from '../../support/factories';
import { HookReceiver } from '../../support/webhook-fixtures';

/** Debian's package, which scripts/test.sh installs when missing: no browser is ever downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
    return result.violations.map((violation: any) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.length }));
  });
  return violations
    .filter((violation: { impact: string }) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation: { id: string; nodes: number }) => `${violation.id} (${violation.nodes})`);
}

describe('the web console in a real Chromium', () => {
  let sut: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    // The test endpoint listens on 127.0.0.1, which only a deployment allowing private targets may call.
    sut = await TestApp.start({ config: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sut?.close();
  });

  /** A context on this Latchkey, recording what the CSP refused and any request that left the origin. */
  async function openContext(): Promise<{ context: BrowserContext; page: Page; cspViolations: string[]; foreign: string[] }> {
    const context = await browser.newContext({ baseURL: sut.baseUrl });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    const foreign: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(sut.baseUrl)) foreign.push(request.url());
    });
    return { context, page, cspViolations, foreign };
  }

  /** Logs `email` in through the API (in `orgId` when given) and hands the browser its session and CSRF cookies. */
  async function signInBrowser(context: BrowserContext, email: string, orgId?: string): Promise<void> {
    const login = await sut.post('/v1/auth/login', { body: { email, password: TEST_PASSWORD, ...(orgId ? { org_id: orgId } : {}) } });
    expect(login.status).toBe(200);
    await context.addCookies(
      (login.headers['set-cookie'] as string[]).map((line) => {
        const [name, value] = line.split(';')[0].split('=');
        return { name, value, url: sut.baseUrl };
      }),
    );
  }

  it('signs up, creates a never-expiring key seen once, searches and clears, opens its detail, and the key passes /v1/check', async () => {
    const { context, page, cspViolations, foreign } = await openContext();
    try {
      await page.goto('/');
      await page.getByRole('heading', { name: 'Log in to Latchkey' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/login');
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('link', { name: 'Sign up' }).click();
      await page.getByRole('heading', { name: 'Create your Latchkey account' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('Your name').fill('Grace');
      await page.getByLabel('Email').fill(uniqueEmail('console'));
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByLabel('Organisation name').fill('Compilers');
      await page.getByRole('button', { name: 'Sign up' }).click();

      await page.getByRole('heading', { name: 'API Keys' }).waitFor();
      await page.getByText('No API keys generated').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      // The session is an HttpOnly cookie; nothing is kept in script-readable storage.
      const session = (await context.cookies()).find((cookie) => cookie.name === 'latchkey_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      // A string, evaluated in the page: this file is compiled without the DOM's types.
      expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);

      await page.getByRole('link', { name: '+ Add API Key' }).click();
      await page.getByRole('heading', { name: 'Add API Key' }).waitFor();
      expect(await page.getByLabel('Production').isDisabled()).toBe(true);
      await page.getByText('once a platform operator approves').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('Name', { exact: true }).fill('Payments server');
      await page.getByLabel('Description (optional)').fill('Charges cards');
      await page.getByLabel('Never Expire').check();
      await page.getByRole('button', { name: 'Create key' }).click();

      await page.getByRole('heading', { name: 'Your new API key' }).waitFor();
      await page.getByText('it will not be displayed again').waitFor();
      const secret = await page.getByLabel('API key “Payments server”').inputValue();
      expect(secret.length).toBeGreaterThan(20);
      expect(await seriousViolations(page)).toEqual([]);

      // Gone once the page is left: neither the list nor going back shows it again.
      await page.getByRole('link', { name: 'Back to API keys' }).click();
      await page.getByRole('link', { name: 'Payments server' }).waitFor();
      expect(await page.content()).not.toContain(secret);
      await page.goBack();
      await page.getByRole('heading', { name: 'Add API Key' }).waitFor();
      expect(await page.content()).not.toContain(secret);

      await page.getByLabel('Name', { exact: true }).fill('Reporting job');
      await page.getByLabel('30 days').check();
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('heading', { name: 'Your new API key' }).waitFor();
      await page.getByRole('link', { name: 'Back to API keys' }).click();
      await page.getByRole('link', { name: 'Reporting job' }).waitFor();
      const rows = page.getByRole('row');
      expect(await rows.count()).toBe(3); // header + two keys
      // Masked in the list: the prefix and a few characters, never the secret.
      expect(await page.getByRole('table').innerText()).not.toContain(secret);

      await page.getByLabel('Search keys').fill('Payments');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('link', { name: 'Reporting job' }).waitFor({ state: 'detached' });
      expect(await rows.count()).toBe(2);
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByRole('link', { name: 'Reporting job' }).waitFor();
      expect(await page.getByLabel('Search keys').inputValue()).toBe('');
      expect(await rows.count()).toBe(3);

      await page.getByRole('link', { name: 'Payments server' }).click();
      await page.getByRole('heading', { name: 'Payments server' }).waitFor();
      const details = await page.locator('dl.details').innerText();
      expect(details).toMatch(/Sid\s+\S+/);
      expect(details).toContain('Charges cards');
      expect(details).toMatch(/Expires\s+Never/);
      expect(details).not.toContain(secret);
      expect(await seriousViolations(page)).toEqual([]);

      // A reload of a deep link opens the same page, still signed in.
      await page.reload();
      await page.getByRole('heading', { name: 'Payments server' }).waitFor();

      const check = await sut.get('/v1/check', { headers: { 'x-api-key': secret } });
      expect(check.status).toBe(200);

      expect(cspViolations).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the API’s message and request id when a write fails, and the field error beside the field', async () => {
    const { context, page } = await openContext();
    try {
      const signup = await sut.post('/v1/auth/signup', {
        body: { email: uniqueEmail('console-errors'), password: TEST_PASSWORD, name: 'Err', org_name: 'Errors' },
      });
      expect(signup.status).toBe(201);
      const setCookie = signup.headers['set-cookie'] as string[];
      await context.addCookies(
        setCookie.map((line) => {
          const [name, value] = line.split(';')[0].split('=');
          return { name, value, url: sut.baseUrl };
        }),
      );

      await page.goto('/console/keys/new');
      await page.getByRole('heading', { name: 'Add API Key' }).waitFor();
      const answer = page.waitForResponse((response) => response.url().endsWith('/v1/api-keys') && response.request().method() === 'POST');
      await page.getByRole('button', { name: 'Create key' }).click();
      const response = await answer;
      expect(response.status()).toBe(400);
      const body = await response.json();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = await alert.innerText();
      expect(text).toContain(body.error.message);
      expect(text).toContain(`Request id: ${body.error.request_id}`);
      await page.locator('#name-error').waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      // Without the CSRF cookie a write is refused, and the console says so.
      await context.clearCookies({ name: 'latchkey_csrf' });
      await page.getByLabel('Name', { exact: true }).fill('No CSRF');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('alert').filter({ hasText: 'X-CSRF-Token' }).waitFor();
      expect(await page.getByRole('alert').innerText()).toMatch(/Request id: \S+/);
    } finally {
      await context.close();
    }
  });

  it('rolls a key with a grace period, disables and enables it, and revokes it after confirming; /v1/check then refuses it', async () => {
    const { context, page, cspViolations, foreign } = await openContext();
    try {
      const owner = await signUp(sut, { orgName: 'Key actions' });
      await signInBrowser(context, owner.email);
      const created = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'Batch importer', environment: 'test' } });
      expect(created.status).toBe(201);
      const first: string = created.body.data.secret;

      await page.goto(`/console/keys/${created.body.data.id}`);
      await page.getByRole('heading', { name: 'Batch importer' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByLabel('Old secret keeps working').selectOption({ label: '1 hour' });
      await page.getByRole('button', { name: 'Roll key' }).click();
      await page.getByRole('heading', { name: 'Your rolled API key' }).waitFor();
      await page.getByText('The old secret keeps working for 1 hour.').waitFor();
      const rolled = await page.getByLabel('API key “Batch importer”').inputValue();
      expect(rolled).not.toBe(first);
      expect(await seriousViolations(page)).toEqual([]);
      // Both work during the grace period.
      expect((await sut.get('/v1/check', { headers: { 'x-api-key': rolled } })).status).toBe(200);
      expect((await sut.get('/v1/check', { headers: { 'x-api-key': first } })).status).toBe(200);
      await page.getByRole('button', { name: 'Done: back to the key' }).click();
      await page.getByRole('heading', { name: 'Batch importer' }).waitFor();
      expect(await page.content()).not.toContain(rolled);

      await page.getByRole('button', { name: 'Disable key' }).click();
      await page.getByText('Key disabled.').waitFor();
      expect(await page.locator('dl.details').innerText()).toMatch(/Status\s+disabled/);
      expect((await sut.get('/v1/check', { headers: { 'x-api-key': rolled } })).status).not.toBe(200);
      await page.getByRole('button', { name: 'Enable key' }).click();
      await page.getByText('Key enabled.').waitFor();
      expect(await page.locator('dl.details').innerText()).toMatch(/Status\s+active/);
      expect((await sut.get('/v1/check', { headers: { 'x-api-key': rolled } })).status).toBe(200);

      // Revoking asks first; cancelling leaves the key as it was.
      await page.getByRole('button', { name: 'Revoke key…' }).click();
      await page.getByText('for good?').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText('for good?').waitFor({ state: 'detached' });
      expect(await page.locator('dl.details').innerText()).toMatch(/Status\s+active/);
      await page.getByRole('button', { name: 'Revoke key…' }).click();
      // The question takes the focus, so a keyboard user lands on it.
      expect(
        await page.getByRole('button', { name: 'Yes, revoke key' }).evaluate((button) => button === button.ownerDocument.activeElement),
      ).toBe(true);
      await page.getByRole('button', { name: 'Yes, revoke key' }).click();
      await page.getByText('Key revoked.').waitFor();
      expect(await page.locator('dl.details').innerText()).toMatch(/Status\s+revoked/);
      // A revoked key offers no more actions.
      expect(await page.getByRole('button', { name: 'Roll key' }).count()).toBe(0);

      const check = await sut.get('/v1/check', { headers: { 'x-api-key': rolled } });
      expect(check.status).toBe(401);
      expect(check.body.success).toBe(false);
      expect((await sut.get('/v1/check', { headers: { 'x-api-key': first } })).status).toBe(401);

      expect(cspViolations).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('adds a webhook endpoint with chosen event types, shows its signing secret once, sends a test and shows the delivery', async () => {
    const { context, page, cspViolations, foreign } = await openContext();
    const receiver = await HookReceiver.start();
    try {
      const owner = await signUp(sut, { orgName: 'Hooks' });
      await signInBrowser(context, owner.email);
      await page.goto('/console/webhooks');
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await page.getByText('No webhook endpoints yet').waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('link', { name: '+ Add endpoint' }).click();
      await page.getByRole('heading', { name: 'Add webhook endpoint' }).waitFor();
      await page.getByLabel('api_key.revoked').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      // Nothing chosen: the API's refusal shows with its request id.
      await page.getByLabel('Endpoint URL').fill(receiver.url());
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      expect(await page.getByRole('alert').first().innerText()).toMatch(/Request id: \S+/);

      await page.getByLabel('Description (optional)').fill('Billing receiver');
      await page.getByLabel('api_key.created').check();
      await page.getByLabel('api_key.revoked').check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByRole('heading', { name: 'Your endpoint’s signing secret' }).waitFor();
      await page.getByText('it will not be displayed again').waitFor();
      const secret = await page.getByLabel(/Signing secret for/).inputValue();
      expect(secret).toMatch(/^whsec_/);
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('link', { name: 'Back to webhooks' }).click();
      await page.getByRole('link', { name: receiver.url() }).waitFor();
      const row = await page.getByRole('row').nth(1).innerText();
      expect(row).toContain('Billing receiver');
      expect(row).toContain('api_key.created, api_key.revoked');
      expect(await page.content()).not.toContain(secret);

      await page.getByRole('link', { name: receiver.url() }).click();
      await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
      await page.getByText('No deliveries yet').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Send test' }).click();
      await page.locator('.test-result').filter({ hasText: 'succeeded: HTTP 200' }).waitFor({ timeout: 30_000 });
      expect(receiver.requests.map((request) => request.path)).toContain('/hooks');
      const log = page.getByRole('table');
      expect(await log.innerText()).toMatch(/webhook\.test\s+succeeded\s+1\s+succeeded: HTTP 200/);
      expect(await seriousViolations(page)).toEqual([]);

      expect(cspViolations).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await receiver.close();
      await context.close();
    }
  });

  it('lists members with roles and invites by email with a role; a viewer or developer is offered only what its role allows', async () => {
    const { context, page, cspViolations, foreign } = await openContext();
    try {
      const owner = await signUp(sut, { orgName: 'Team', name: 'Olive Owner' });
      const viewer = await signUp(sut, { orgName: 'Elsewhere', name: 'Vic Viewer' });
      await inviteAndAccept(sut, owner, viewer, 'viewer');
      await signInBrowser(context, owner.email);

      await page.goto('/console/members');
      await page.getByRole('heading', { name: 'Members' }).waitFor();
      await page.getByRole('cell', { name: viewer.email }).waitFor();
      const table = await page.getByRole('table').innerText();
      expect(table).toMatch(/Olive Owner\s+\S+\s+owner/);
      expect(table).toMatch(/Vic Viewer\s+\S+\s+viewer/);
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('button', { name: 'Invite member' }).click();
      const invitee = uniqueEmail('invitee');
      await page.getByLabel('Email').fill(invitee);
      await page.getByLabel('Role').selectOption('admin');
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Send invitation' }).click();
      await page.getByText(`Invitation sent to ${invitee}.`).waitFor();
      const invitations = page.getByRole('region', { name: 'Open invitations' });
      await invitations.getByRole('cell', { name: invitee }).waitFor();
      expect(await invitations.innerText()).toMatch(/admin\s+invited/);

      // An address the API refuses: its message and request id.
      await page.getByRole('button', { name: 'Invite member' }).click();
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByRole('button', { name: 'Send invitation' }).click();
      expect(await page.getByRole('alert').innerText()).toMatch(/Request id: \S+/);

      await context.clearCookies();
      await signInBrowser(context, viewer.email, owner.orgId);
      await page.goto('/console/members');
      await page.getByRole('cell', { name: owner.email }).waitFor();
      expect(await page.getByRole('button', { name: 'Invite member' }).count()).toBe(0);
      expect(await page.getByRole('region', { name: 'Open invitations' }).count()).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      // Nor may a viewer add an endpoint or act on a key.
      await page.goto('/console/webhooks');
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      expect(await page.getByRole('link', { name: '+ Add endpoint' }).count()).toBe(0);
      const ownersKey = await sut.post('/v1/api-keys', { token: owner.token, body: { name: 'Owner key', environment: 'test' } });
      await page.goto('/console/keys');
      await page.getByRole('link', { name: 'Owner key' }).waitFor();
      expect(await page.getByRole('link', { name: '+ Add API Key' }).count()).toBe(0);
      await page.goto(`/console/keys/${ownersKey.body.data.id}`);
      await page.getByRole('heading', { name: 'Owner key' }).waitFor();
      expect(await page.getByRole('button', { name: 'Roll key' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Revoke key…' }).count()).toBe(0);

      // A developer acts on the keys it created, and only reads the others.
      const developer = await signUp(sut, { orgName: 'Own lab', name: 'Dee Developer' });
      await inviteAndAccept(sut, owner, developer, 'developer');
      const inTeam = await logIn(sut, developer.email, TEST_PASSWORD, owner.orgId);
      const ownKey = await sut.post('/v1/api-keys', { token: inTeam.token, body: { name: 'Developer key', environment: 'test' } });
      expect(ownKey.status).toBe(201);
      await context.clearCookies();
      await signInBrowser(context, developer.email, owner.orgId);
      await page.goto(`/console/keys/${ownersKey.body.data.id}`);
      await page.getByRole('heading', { name: 'Owner key' }).waitFor();
      expect(await page.getByRole('button', { name: 'Roll key' }).count()).toBe(0);
      await page.goto(`/console/keys/${ownKey.body.data.id}`);
      await page.getByRole('heading', { name: 'Developer key' }).waitFor();
      await page.getByRole('button', { name: 'Roll key' }).waitFor();
      await page.goto('/console/members');
      await page.getByRole('cell', { name: developer.email }).waitFor();
      expect(await page.getByRole('button', { name: 'Invite member' }).count()).toBe(0);

      expect(cspViolations).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
