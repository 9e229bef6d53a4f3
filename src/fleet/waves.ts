/**
 * The order of an upgrade: applications whose most critical environment comes earlier in the
 * environment order (development, then staging, then production, by default) go first; the first
 * `canarySize` of them form the canary wave, the rest waves of `waveSize`. Within an application,
 * environments are redeployed in the same order. Pure functions: the runner persists their result.
 */

/** Position of an environment type in the order; types not listed come after all listed ones. */
export function envRank(type: string, order: readonly string[]): number {
  const i = order.indexOf(type);
  return i < 0 ? order.length : i;
}

/** An application's rank: that of its most critical environment (0 when it has none). */
export function appRank(types: readonly string[], order: readonly string[]): number {
  return types.reduce((m, t) => Math.max(m, envRank(t, order)), 0);
}

/** Applications by rank, keeping the given (plan) order among equals. */
export function orderApplications<T extends { environments: readonly { type: string }[] }>(apps: readonly T[], order: readonly string[]): T[] {
  return apps
    .map((a, i) => ({ a, i, r: appRank(a.environments.map((e) => e.type), order) }))
    .sort((x, y) => x.r - y.r || x.i - y.i)
    .map((x) => x.a);
}

/** An application's environments in upgrade order (by rank, then by name). */
export function orderEnvironments<T extends { name: string; type: string }>(envs: readonly T[], order: readonly string[]): T[] {
  return [...envs].sort((a, b) => envRank(a.type, order) - envRank(b.type, order) || a.name.localeCompare(b.name));
}

export interface Wave<T> {
  index: number;
  canary: boolean;
  items: T[];
}

/** The canary wave (when canarySize > 0), then waves of waveSize. */
export function splitWaves<T>(ordered: readonly T[], canarySize: number, waveSize: number): Wave<T>[] {
  const waves: Wave<T>[] = [];
  let rest = [...ordered];
  if (canarySize > 0 && rest.length) {
    waves.push({ index: 0, canary: true, items: rest.slice(0, canarySize) });
    rest = rest.slice(canarySize);
  }
  for (let i = 0; i < rest.length; i += waveSize) waves.push({ index: waves.length, canary: false, items: rest.slice(i, i + waveSize) });
  return waves;
}
