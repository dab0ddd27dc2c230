import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Not imported from generate-types.ts: loading it loads openapi-typescript (see there).
const GENERATED_TYPES = join(__dirname, '..', 'src', 'generated', 'openapi.ts');

describe('the SDK types', () => {
  // The document itself is checked against the code by test/e2e/platform/openapi.e2e-spec.ts.
  it('are what `npm run sdk:types` generates from docs/openapi.json (run it after changing the document)', () => {
    // Generated in a child process, in memory: see generate-types.ts for why not in Jest.
    const expected = execFileSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'generate-types.ts'), '--stdout'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(readFileSync(GENERATED_TYPES, 'utf8') === expected).toBe(true);
  }, 60_000);
});
