import { sql } from 'kysely';
import { maxSatisfying, rcompare, valid as validSemver } from 'semver';
import type { Db } from '../store/db.ts';
import type { LoadedObject } from './loader.ts';
import { VERSIONED_KINDS, type PlatformKind, type PlatformObject, type PlatformObjectOf } from './schema.ts';

/**
 * Published platform objects. Invariants: a published version of a template or add-on never changes
 * (publishing other content under the same version is refused); unversioned kinds (resource types,
 * resource definitions, team profiles) get a new revision ("r1", "r2", …) whenever their content
 * changes, and old revisions stay, so a resource records exactly which definition made it.
 */
export interface PublishProblem {
  file: string;
  document: number;
  message: string;
}

export interface PublishOutcome {
  published: { kind: string; name: string; version: string }[];
  unchanged: number;
  retired: { kind: string; name: string }[];
  problems: PublishProblem[];
}

const LOCK = 7_400_002;

export async function publish(db: Db, loaded: LoadedObject[], source: string, opts: { retireMissing: boolean }): Promise<PublishOutcome> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${LOCK})`.execute(tx);
    const out: PublishOutcome = { published: [], unchanged: 0, retired: [], problems: [] };
    const seen = new Set<string>();
    for (const l of loaded) {
      const { kind } = l.object;
      const name = l.object.metadata.name;
      seen.add(`${kind}/${name}`);
      if (VERSIONED_KINDS.includes(kind)) {
        const version = l.object.metadata.version!;
        const existing = await tx.selectFrom('platform_objects').select(['digest']).where('kind', '=', kind).where('name', '=', name).where('version', '=', version).executeTakeFirst();
        if (existing) {
          if (existing.digest === l.digest) out.unchanged++;
          else out.problems.push({ file: l.file, document: l.document, message: `${kind} ${name} ${version} is already published with other content; a published version never changes: publish it as a new version` });
          continue;
        }
        await tx.insertInto('platform_objects').values({ kind, name, version, content: JSON.stringify(l.object), digest: l.digest, source: `${source}:${l.file}` }).execute();
        out.published.push({ kind, name, version });
        continue;
      }
      const current = await tx.selectFrom('platform_objects').select(['version', 'digest']).where('kind', '=', kind).where('name', '=', name).where('current', '=', true).executeTakeFirst();
      if (current?.digest === l.digest) {
        out.unchanged++;
        continue;
      }
      const last = await tx.selectFrom('platform_objects').select(sql<number>`coalesce(max(substr(version, 2)::int), 0)`.as('n')).where('kind', '=', kind).where('name', '=', name).executeTakeFirstOrThrow();
      const version = `r${Number(last.n) + 1}`;
      await tx.updateTable('platform_objects').set({ current: false }).where('kind', '=', kind).where('name', '=', name).execute();
      await tx.insertInto('platform_objects').values({ kind, name, version, content: JSON.stringify(l.object), digest: l.digest, source: `${source}:${l.file}` }).execute();
      out.published.push({ kind, name, version });
    }
    if (opts.retireMissing) {
      const rows = await tx.selectFrom('platform_objects').select(['kind', 'name']).distinct().where('current', '=', true).execute();
      for (const r of rows) {
        if (seen.has(`${r.kind}/${r.name}`)) continue;
        await tx.updateTable('platform_objects').set({ current: false }).where('kind', '=', r.kind).where('name', '=', r.name).execute();
        out.retired.push(r);
      }
    }
    return out;
  });
}

export interface StoredObject<K extends PlatformKind = PlatformKind> {
  kind: K;
  name: string;
  version: string;
  current: boolean;
  source: string;
  createdAt: string;
  object: PlatformObjectOf<K>;
}

function view<K extends PlatformKind>(r: { kind: string; name: string; version: string; current: boolean; source: string; created_at: Date; content: Record<string, unknown> }): StoredObject<K> {
  return { kind: r.kind as K, name: r.name, version: r.version, current: r.current, source: r.source, createdAt: new Date(r.created_at).toISOString(), object: r.content as unknown as PlatformObjectOf<K> };
}

/** Current objects of a kind: every current version of templates and add-ons, the current revision of the others. */
export async function listCurrent<K extends PlatformKind>(db: Db, kind: K): Promise<StoredObject<K>[]> {
  const rows = await db.selectFrom('platform_objects').selectAll().where('kind', '=', kind).where('current', '=', true).orderBy('name').execute();
  return rows.map((r) => view<K>(r)).sort((a, b) => a.name.localeCompare(b.name) || versionOrder(a.version, b.version));
}

/** Every version of one object, newest first. */
export async function listVersions<K extends PlatformKind>(db: Db, kind: K, name: string): Promise<StoredObject<K>[]> {
  const rows = await db.selectFrom('platform_objects').selectAll().where('kind', '=', kind).where('name', '=', name).execute();
  return rows.map((r) => view<K>(r)).sort((a, b) => versionOrder(a.version, b.version));
}

function versionOrder(a: string, b: string): number {
  if (validSemver(a) && validSemver(b)) return rcompare(a, b);
  return Number(b.slice(1)) - Number(a.slice(1));
}

/**
 * One version of a template or add-on: an exact version, a semver range (the highest match among
 * current versions), or the latest current version when none is given.
 */
export async function resolveVersion<K extends 'Template' | 'AddOn'>(db: Db, kind: K, name: string, wanted?: string): Promise<StoredObject<K> | undefined> {
  const all = await listVersions(db, kind, name);
  if (wanted && all.some((o) => o.version === wanted)) return all.find((o) => o.version === wanted);
  const candidates = all.filter((o) => o.current).map((o) => o.version);
  const best = wanted ? maxSatisfying(candidates, wanted) : candidates[0];
  return best ? all.find((o) => o.version === best) : undefined;
}

export async function getVersion<K extends PlatformKind>(db: Db, kind: K, name: string, version: string): Promise<StoredObject<K> | undefined> {
  const r = await db.selectFrom('platform_objects').selectAll().where('kind', '=', kind).where('name', '=', name).where('version', '=', version).executeTakeFirst();
  return r ? view<K>(r) : undefined;
}

export type { PlatformObject };
