import { defineConfig } from 'tsup';

/**
 * ESM + CJS + .d.ts of the SDK. The monorepo's own modules (@latchkey/crypto,
 * @latchkey/redis-rpc) are bundled in, resolved through the root tsconfig's paths
 * (this folder's tsconfig extends it): the package depends on nothing unpublished,
 * and the services and the SDK run the same code. ioredis stays outside, an
 * optional peer the Redis verifier imports only when it is used. `cli` is the `latchkey`
 * binary (its hashbang kept by esbuild); the package's `bin` points at its CJS build.
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    management: 'src/management.ts',
    nestjs: 'src/nestjs.ts',
    express: 'src/express.ts',
    fastify: 'src/fastify.ts',
    cli: 'src/cli.ts',
  },
  format: ['esm', 'cjs'],
  outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.cjs' }),
  dts: true,
  tsconfig: 'tsconfig.json',
  platform: 'node',
  target: 'node20',
  clean: true,
  sourcemap: false,
  splitting: false,
  treeshake: true,
  external: ['ioredis', '@nestjs/common', '@nestjs/core'],
  noExternal: [/^@latchkey\//],
});
