import { rcompare, valid as validSemver } from 'semver';
import type { AddOn, Template } from '../platform/schema.ts';
import type { Db } from '../store/db.ts';
import type { Published } from './next.ts';

/** Every published template and add-on version, read once (they are few and never change once published). */
export interface PublishedSet extends Published {
  /** Versions of a template or add-on, newest first, with whether each is still current. */
  versions(kind: 'Template' | 'AddOn', name: string): { version: string; current: boolean; title: string | null }[];
  names(kind: 'Template' | 'AddOn'): string[];
  latest(kind: 'Template' | 'AddOn', name: string): string | null;
}

const newestFirst = (a: string, b: string) => (validSemver(a) && validSemver(b) ? rcompare(a, b) : b.localeCompare(a));

export async function loadPublished(db: Db): Promise<PublishedSet> {
  const rows = await db.selectFrom('platform_objects').select(['kind', 'name', 'version', 'current', 'content']).where('kind', 'in', ['Template', 'AddOn']).execute();
  const objects = new Map<string, Template | AddOn>();
  const versions = new Map<string, { version: string; current: boolean; title: string | null }[]>();
  for (const r of rows) {
    const object = r.content as unknown as Template | AddOn;
    objects.set(`${r.kind}/${r.name}@${r.version}`, object);
    const list = versions.get(`${r.kind}/${r.name}`) ?? [];
    list.push({ version: r.version, current: r.current, title: object.metadata.title ?? null });
    versions.set(`${r.kind}/${r.name}`, list);
  }
  for (const list of versions.values()) list.sort((a, b) => newestFirst(a.version, b.version));
  const versionsOf = (kind: 'Template' | 'AddOn', name: string) => versions.get(`${kind}/${name}`) ?? [];
  return {
    template: (name, version) => objects.get(`Template/${name}@${version}`) as Template | undefined,
    addon: (name, version) => objects.get(`AddOn/${name}@${version}`) as AddOn | undefined,
    addonVersions: (name) => versionsOf('AddOn', name).filter((v) => v.current).map((v) => v.version),
    versions: versionsOf,
    names: (kind) => [...new Set([...versions.keys()].filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)))].sort(),
    latest: (kind, name) => versionsOf(kind, name).find((v) => v.current)?.version ?? null,
  };
}
