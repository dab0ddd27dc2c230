import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

// The web console (docs/console.md): static files org-api serves at /console/.
// Vite's own transform handles TSX with React's automatic runtime, so no React plugin
// (and no fast refresh, which a production build never uses).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/apps/console', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the console's CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
