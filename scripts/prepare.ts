// The install step (`npm install` / `npm ci` run `prepare`): builds the portal into portal/dist.
// `npx pave` in the checkout makes npm link this very folder into its npx cache and run `prepare`
// again; the portal is already built then, so that run does nothing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(root, 'portal', 'dist', 'index.html'));
if (process.env.npm_command === 'exec' && built) process.exit(0);
execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'portal/vite.config.ts', '--logLevel', 'warn'], {
  cwd: root,
  stdio: 'inherit',
});
