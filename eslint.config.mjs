// Type-aware lint rules that catch real bugs (floating promises, non-exhaustive
// switches), plus the architecture rules: libraries are imported only through their
// entry point (STYLE.md), libs/platform never imports libs/db and the bottom libs
// import no other lib, and only @latchkey/config reads process.env.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The SDK's published subpaths (packages/sdk/package.json exports) are entry points too.
const SDK_ENTRY_POINTS = ['management', 'nestjs', 'express', 'fastify'].map((entry) => `!@latchkey/sdk/${entry}`);
const ENTRY_POINTS_ONLY = {
  group: ['@latchkey/*/*', ...SDK_ENTRY_POINTS],
  message: 'Import a lib only through its entry point: @latchkey/<lib>.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'packages/*/dist/**', 'node_modules/**', 'coverage/**', 'jest.config.js', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-imports': ['error', { patterns: [ENTRY_POINTS_ONLY] }],
    },
  },
  {
    // The libs' layering (libs/db/src/index.ts says why). A later block replaces the
    // rule's options rather than adding to them, so each one repeats ENTRY_POINTS_ONLY.
    files: ['libs/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@latchkey/db',
              message:
                'libs/platform does not depend on the ORM schema: take ids from @latchkey/ids, roles and pages from @latchkey/contracts.',
            },
          ],
          patterns: [ENTRY_POINTS_ONLY],
        },
      ],
    },
  },
  {
    // The bottom of the graph: everything may import these, so they import no other lib.
    files: ['libs/contracts/**/*.ts', 'libs/ids/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@latchkey/*'], message: 'libs/contracts and libs/ids import no other @latchkey lib.' }] },
      ],
    },
  },
  {
    // The RPC wire and client ship in the SDK: node built-ins and ioredis only.
    files: ['libs/redis-rpc/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@latchkey/*', '../../*'], message: 'libs/redis-rpc ships in the SDK: it imports no other part of the monorepo.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['libs/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through AppConfig (@latchkey/config), which validates it.' },
      ],
    },
  },
  {
    // Tests read loosely typed JSON answers; `any` there is the honest type.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
