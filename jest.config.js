/**
 * Three kinds of test, one run (so CI reads one JSON result):
 *  - unit:        *.spec.ts next to the code (apps, libs, packages), pure logic, no I/O; `npm run test:unit`
 *                 runs this tier alone, with no bootstrap, no Postgres and no Redis
 *  - integration: *.int-spec.ts next to the code, real Postgres/Redis
 *  - e2e:         test/e2e/<app>/*.e2e-spec.ts, whole processes over HTTP and Redis
 * Every file that touches Postgres or Redis gets its own database and key prefix
 * (test/support/test-environment.ts), so files run in parallel safely.
 */
const fs = require('node:fs');
const path = require('node:path');

const swc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    // The SDK by its published name (examples/ import it so), then the monorepo's libs.
    '^@latchkey/sdk$': '<rootDir>/packages/sdk/src/index.ts',
    '^@latchkey/sdk/(.*)$': '<rootDir>/packages/sdk/src/$1',
    '^@latchkey/(.*)$': '<rootDir>/libs/$1/src',
  },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};

module.exports = {
  testTimeout: 30_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,packages}/**/*.spec.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
