import { readFileSync } from 'node:fs';

import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

import { ensureConsoleBuilt } from '../../support/console-build';
import { TestApp } from '../../support/create-test-app';
import { TEST_PASSWORD, uniqueEmail } from '../../support/factories';

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
    sut = await TestApp.start();
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
});
