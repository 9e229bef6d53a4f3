import { sql } from 'kysely';
import { SECRET_MASK } from '../contracts/golden.ts';
import type { Change, ConfigUpdate } from '../contracts/deployments.ts';
import { preconditionFailed, validationError } from '../errors.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Db } from '../store/db.ts';
import type { EnvironmentConfigRow } from '../store/schema.ts';

/**
 * Environment config: variables and secrets of one environment, versioned. Every change writes a new
 * version (the whole set), so any two versions can be compared and a deployment names the version it
 * took. Secrets are sealed with the environment and version as context and are never returned in
 * clear. Invariant: a version is never changed after it is written.
 */
export interface ConfigValues {
  version: number;
  variables: Record<string, string>;
  secrets: Record<string, string>;
  row: EnvironmentConfigRow | null;
}

const context = (environmentId: string, version: number) => `environment:${environmentId}:config:${version}`;

export class EnvironmentConfigs {
  private readonly db: Db;
  private readonly box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.db = db;
    this.box = box;
  }

  private open(row: EnvironmentConfigRow | undefined): ConfigValues {
    if (!row) return { version: 0, variables: {}, secrets: {}, row: null };
    return { version: row.version, variables: row.variables, secrets: row.secrets ? this.box.openJson<Record<string, string>>(row.secrets, context(row.environment_id, row.version)) : {}, row };
  }

  async current(environmentId: string): Promise<ConfigValues> {
    const row = await this.db.selectFrom('environment_configs').selectAll().where('environment_id', '=', environmentId).orderBy('version', 'desc').limit(1).executeTakeFirst();
    return this.open(row);
  }

  async version(environmentId: string, version: number): Promise<ConfigValues> {
    if (version === 0) return this.open(undefined);
    const row = await this.db.selectFrom('environment_configs').selectAll().where('environment_id', '=', environmentId).where('version', '=', version).executeTakeFirst();
    return this.open(row);
  }

  /** Applies a change as a new version; an update that changes nothing writes nothing. */
  async update(environmentId: string, update: ConfigUpdate, by: string, change?: string, expectedVersion?: number): Promise<ConfigValues> {
    const both = Object.keys(update.set ?? {}).filter((k) => k in (update.secrets ?? {}));
    if (both.length) throw validationError(`${both.join(', ')} cannot be both a variable and a secret`, both.map((k) => ({ path: `body.secrets.${k}`, message: 'also given in set' })));
    return this.db.transaction().execute(async (tx) => {
      // serialise writers of one environment, so that two changes never get the same version
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`config:${environmentId}`}))`.execute(tx);
      const row = await tx.selectFrom('environment_configs').selectAll().where('environment_id', '=', environmentId).orderBy('version', 'desc').limit(1).executeTakeFirst();
      const cur = this.open(row);
      if (expectedVersion !== undefined && expectedVersion !== cur.version) throw preconditionFailed(`the config is at version ${cur.version}, not ${expectedVersion}; read it again`);
      const variables = { ...cur.variables };
      const secrets = { ...cur.secrets };
      for (const k of update.unset ?? []) {
        delete variables[k];
        delete secrets[k];
      }
      for (const [k, v] of Object.entries(update.set ?? {})) {
        variables[k] = v;
        delete secrets[k];
      }
      for (const [k, v] of Object.entries(update.secrets ?? {})) {
        secrets[k] = v;
        delete variables[k];
      }
      const changes = diffConfig(cur, { variables, secrets });
      if (!changes.length) return cur;
      const version = cur.version + 1;
      const names = Object.keys(secrets).sort();
      const inserted = await tx
        .insertInto('environment_configs')
        .values({
          environment_id: environmentId, version, variables: JSON.stringify(sortKeys(variables)), secret_names: names,
          secrets: names.length ? this.box.sealJson(secrets, context(environmentId, version)) : null,
          change: change ?? describe(changes), created_by: by,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { version, variables, secrets, row: inserted };
    });
  }

  async history(environmentId: string): Promise<{ version: number; change: string; createdBy: string; createdAt: string; changes: Change[] }[]> {
    const rows = await this.db.selectFrom('environment_configs').selectAll().where('environment_id', '=', environmentId).orderBy('version', 'desc').limit(200).execute();
    const out = [];
    for (const row of rows) {
      const cur = this.open(row);
      const prev = await this.version(environmentId, row.version - 1);
      out.push({ version: row.version, change: row.change, createdBy: row.created_by, createdAt: new Date(row.created_at).toISOString(), changes: diffConfig(prev, cur) });
    }
    return out;
  }
}

/** What changed from `a` to `b`; secret values are masked, so a diff never shows one. */
export function diffConfig(a: { variables: Record<string, string>; secrets: Record<string, string> }, b: { variables: Record<string, string>; secrets: Record<string, string> }): Change[] {
  const out: Change[] = [];
  const names = new Set([...Object.keys(a.variables), ...Object.keys(a.secrets), ...Object.keys(b.variables), ...Object.keys(b.secrets)]);
  for (const name of [...names].sort()) {
    const before = name in a.secrets ? { v: a.secrets[name]!, secret: true } : name in a.variables ? { v: a.variables[name]!, secret: false } : null;
    const after = name in b.secrets ? { v: b.secrets[name]!, secret: true } : name in b.variables ? { v: b.variables[name]!, secret: false } : null;
    const shown = (x: { v: string; secret: boolean } | null) => (x === null ? null : x.secret ? SECRET_MASK : x.v);
    const secret = Boolean(before?.secret || after?.secret);
    if (!before && after) out.push({ name, change: 'added', secret, from: null, to: shown(after) });
    else if (before && !after) out.push({ name, change: 'removed', secret, from: shown(before), to: null });
    else if (before && after && (before.v !== after.v || before.secret !== after.secret)) out.push({ name, change: 'changed', secret, from: shown(before), to: shown(after) });
  }
  return out;
}

function describe(changes: Change[]): string {
  const part = (kind: Change['change']) => changes.filter((c) => c.change === kind).map((c) => c.name);
  const parts: [string, string[]][] = [['set', [...part('added'), ...part('changed')]], ['unset', part('removed')]];
  return parts.filter(([, names]) => names.length).map(([verb, names]) => `${verb} ${names.join(', ')}`).join('; ');
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
