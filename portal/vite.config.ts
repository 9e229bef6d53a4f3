import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const portalDir = fileURLToPath(new URL('.', import.meta.url));
const repoDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * The web portal. `npm run build:portal` writes portal/dist, which the server serves at / (deep links
 * fall back to index.html). `npx vite --config portal/vite.config.ts` runs a dev server that proxies
 * the API to a Pave server on PAVE_URL (default http://127.0.0.1:7400).
 */
export default defineConfig({
  root: portalDir,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // The portal imports the API's types from src/contracts, outside the Vite root.
    fs: { allow: [repoDir] },
    proxy: { '/api': process.env.PAVE_URL ?? 'http://127.0.0.1:7400' },
  },
});
