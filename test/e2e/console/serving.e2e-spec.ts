import { ensureConsoleBuilt } from '../../support/console-build';
import { TestApp } from '../../support/create-test-app';

describe('the web console, served by org-api at /console/', () => {
  let sut: TestApp;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    sut = await TestApp.start();
  }, 120_000);

  afterAll(async () => {
    await sut.close();
  });

  it('serves index.html at /console/ under a strict Content-Security-Policy', async () => {
    const response = await sut.get('/console/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.text).toMatch(/<script type="module" crossorigin src="\/console\/assets\/[^"]+\.js"><\/script>/);
    // Nothing inline: every script and style is a file of this origin.
    expect(response.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(response.text).not.toMatch(/<style/);
  });

  it('serves the hashed bundles with a year of caching, and 404s a missing one in the envelope', async () => {
    const index = await sut.get('/console/');
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(script).toBeDefined();
    const bundle = await sut.get(script!);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.headers['cache-control']).toContain('immutable');
    expect(bundle.headers['content-security-policy']).toBeDefined();

    const missing = await sut.get('/console/assets/not-there-123.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('answers a deep link or a reload under /console/ with index.html', async () => {
    const index = await sut.get('/console/');
    for (const path of ['/console/keys', '/console/keys/key_01ABC', '/console/login?next=%2Fkeys']) {
      const response = await sut.get(path);
      expect(response.status).toBe(200);
      expect(response.text).toBe(index.text);
    }
  });

  it('sends a browser at / to the console; a JSON client keeps the 404 envelope', async () => {
    const browser = await sut.get('/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toBe('/console/');
    const bare = await sut.get('/console', { headers: { accept: 'text/html' } });
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/console/');

    const json = await sut.get('/', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(json.body.error.code).toBe('NOT_FOUND');
  });

  it('leaves /docs (Swagger UI) without the console policy', async () => {
    const docs = await sut.get('/docs');
    expect([200, 301, 302]).toContain(docs.status);
    expect(docs.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(docs.headers['x-frame-options']).toBe('DENY');
    const api = await sut.get('/v1/auth/session');
    expect(api.headers['content-security-policy']).toBeUndefined();
  });
});
