import { resolveProfile } from '../platform/profiles.ts';
import type { ClusterSettings, EnvironmentDefaults } from '../platform/schema.ts';
import type { Db } from '../store/db.ts';
import type { EnvironmentRow } from '../store/schema.ts';
import { checkSettings } from '../targets/cluster.ts';
import type { RuntimeName, TargetSettingsError } from '../targets/target.ts';

/**
 * Which runtime target an environment's deployments go to, and with which cluster: the environment's
 * own runtime (set with PUT …/environments/:env/runtime), else the application's (`pave create
 * --runtime`), else the team profile's for the environment type, else the local runtime. The cluster
 * (and GitOps repository) comes from the team profile's `environments.<type>.cluster`: the platform
 * team's, per environment type, as Humanitec picks a cluster per environment type. Reads only.
 */
export interface ResolvedTarget {
  runtime: RuntimeName;
  source: 'environment' | 'application' | 'team profile' | 'default';
  cluster: ClusterSettings | null;
  /** Where the cluster settings are, for problems: `profile.environments.production.cluster`. */
  at: string;
  /** The profiles the settings come from (`default@r3`, `payments@r1`). */
  profiles: string[];
  defaults: EnvironmentDefaults;
  /** Why the settings cannot serve the runtime, if they cannot. */
  problem: TargetSettingsError | null;
}

export async function resolveTarget(db: Db, app: { team: string | null; runtime?: string | null | undefined }, env: Pick<EnvironmentRow, 'type' | 'runtime'>): Promise<ResolvedTarget> {
  const profile = await resolveProfile(db, app.team ?? '*');
  const defaults = profile.environments[env.type] ?? {};
  const pick = (): Pick<ResolvedTarget, 'runtime' | 'source'> => {
    if (env.runtime) return { runtime: env.runtime, source: 'environment' };
    if (app.runtime) return { runtime: app.runtime as RuntimeName, source: 'application' };
    if (defaults.runtime) return { runtime: defaults.runtime, source: 'team profile' };
    return { runtime: 'local', source: 'default' };
  };
  const { runtime, source } = pick();
  const at = `profile.environments.${env.type}.cluster`;
  const cluster = defaults.cluster ?? null;
  return { runtime, source, cluster, at, profiles: profile.profiles, defaults, problem: checkSettings(runtime, cluster ?? undefined, at) };
}
