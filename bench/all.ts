/**
 * `npm run bench [-- --quick]`: every benchmark, one after the other (they share a small machine).
 * The catalog benchmark takes its own options (`npm run bench:catalog -- --help`), the resource one
 * its own (`npm run bench:resources -- --help`); `--quick` is passed to both.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick') ? ['--quick'] : [];
const runs: [string, string[]][] = [
  ['run.ts', args],
  ['resources.ts', quick],
  ['deployments.ts', quick],
  // fleet upgrades: --quick is 10 then 50 applications (about half a minute); without it 100 then 1,000 (several minutes)
  ['fleet.ts', quick],
];
let failed = 0;
for (const [file, argv] of runs) {
  const r = spawnSync(process.execPath, [path.join(import.meta.dirname, file), ...argv], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
