import type { Db } from '../store/db.ts';
import { listCurrent } from './store.ts';
import type { EnvironmentDefaults } from './schema.ts';

/**
 * A team's profile: its own TeamProfile merged over the default one (team "*"), per environment type.
 * This is the "init once, create with two commands" experience: defaults a developer need not type.
 */
export interface ResolvedProfile {
  team: string;
  profiles: string[];
  defaultTemplate: string | null;
  environments: Record<string, EnvironmentDefaults>;
}

export async function resolveProfile(db: Db, team: string): Promise<ResolvedProfile> {
  const all = await listCurrent(db, 'TeamProfile');
  const base = all.find((p) => p.object.spec.team === '*');
  const own = all.find((p) => p.object.spec.team === team);
  const environments: Record<string, EnvironmentDefaults> = {};
  for (const p of [base, own]) {
    if (!p) continue;
    for (const [type, defaults] of Object.entries(p.object.spec.environments ?? {})) environments[type] = { ...environments[type], ...defaults, ...(defaults.variables || environments[type]?.variables ? { variables: { ...environments[type]?.variables, ...defaults.variables } } : {}) };
  }
  return {
    team,
    profiles: [base, own].filter((p) => p !== undefined).map((p) => `${p.name}@${p.version}`),
    defaultTemplate: own?.object.spec.defaultTemplate ?? base?.object.spec.defaultTemplate ?? null,
    environments,
  };
}
