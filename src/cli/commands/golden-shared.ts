import type { Command } from 'commander';
import type { ApplyResultView } from '../../contracts/golden.ts';
import { GoldenClient, type AppRef } from '../golden-client.ts';
import { info } from '../output.ts';
import { failureLines, progressPrinter } from '../progress.ts';
import { splitName } from './entity.ts';
import { clientFor } from './shared.ts';

/** Helpers of the golden-path commands (create, apps addons, envs, resources). */

export const goldenFor = (cmd: Command) => new GoldenClient(clientFor(cmd));

/** `APP` or `NAMESPACE/APP` (or --namespace). */
export const appRef = (arg: string, namespace?: string): AppRef => splitName(arg, namespace);

export const appLabel = (app: AppRef) => (app.namespace === 'default' ? app.name : `${app.namespace}/${app.name}`);

/** Applies an environment with live progress on stderr, one line per event. */
export async function applyWithProgress(golden: GoldenClient, app: AppRef, env: string, opts: { refresh?: boolean } = {}): Promise<ApplyResultView> {
  info(`Applying ${env} of ${appLabel(app)}…`);
  const progress = progressPrinter();
  try {
    return await golden.apply(app, env, (e, live) => progress.event(e, live), opts);
  } finally {
    progress.end();
  }
}

/** When resources failed: each error on stderr, and exit code 1. */
export function reportFailures(result: ApplyResultView): void {
  if (result.ok && result.failed.length === 0) return;
  for (const line of failureLines(result)) info(line);
  process.exitCode = 1;
}
