import type { Entity, Relation } from '../contracts/catalog.ts';
import { fields, type Cell } from './output.ts';

/** How catalog entities look in tables and in `show`. */

/** A ref shortened for reading: `team:default/a` → `a` when its kind is the expected one. */
export function shortRef(ref: string | null | undefined, expectedKind?: string): string | null {
  if (!ref) return null;
  const m = /^([a-z]+):([a-z0-9-]+)\/(.+)$/.exec(ref);
  if (!m) return ref;
  const [, kind, namespace, name] = m;
  if (namespace !== 'default') return ref;
  return kind === expectedKind ? name! : `${kind}:${name}`;
}

export const displayName = (e: Entity) => (e.namespace === 'default' ? e.name : `${e.namespace}/${e.name}`);

const LABELS: [string, string][] = [
  ['ownedBy', 'Owner'],
  ['partOf', 'Part of'],
  ['hasMember', 'Members'],
  ['memberOf', 'Member of'],
  ['childOf', 'Parent'],
  ['parentOf', 'Children'],
  ['dependsOn', 'Depends on'],
  ['dependencyOf', 'Dependency of'],
  ['providesApi', 'Provides APIs'],
  ['consumesApi', 'Consumes APIs'],
  ['apiProvidedBy', 'Provided by'],
  ['apiConsumedBy', 'Consumed by'],
  ['ownerOf', 'Owns'],
  ['hasPart', 'Has parts'],
];

/** Relation types `show` lists even when empty, per kind. */
const ALWAYS: Record<string, string[]> = { team: ['hasMember'], user: ['memberOf'], application: ['ownedBy'] };

export const UNRESOLVED = '(unresolved: not in the catalog)';

/** Two-column lines, indented, the first column padded. */
export function indented(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${b ? `${a.padEnd(width)}  ${b}` : a}`);
}

function relationLines(kind: string, relations: Relation[]): string[] {
  const byType = new Map<string, Relation[]>();
  for (const r of relations) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const known = new Set(LABELS.map(([t]) => t));
  const order = [...LABELS, ...[...byType.keys()].filter((t) => !known.has(t)).map((t): [string, string] => [t, t])];
  const lines: string[] = [];
  for (const [type, label] of order) {
    const list = byType.get(type) ?? [];
    if (list.length === 0 && !ALWAYS[kind]?.includes(type)) continue;
    lines.push('', `${label} (${list.length}):`);
    if (list.length === 0) lines.push('  (none)');
    lines.push(...indented(list.map((r) => [r.targetRef, r.resolved ? (r.target?.title ?? '') : UNRESOLVED])));
  }
  return lines;
}

/** `show`: the entity's fields, then its relations grouped by type, unresolved ones marked. */
export function entityDetails(e: Entity): string {
  const spec = e.spec as { profile?: { email?: string; displayName?: string }; parent?: string };
  const head = fields([
    ['Ref', e.ref],
    ['Title', e.title],
    ['Description', e.description],
    ['Type', e.type],
    ['Lifecycle', e.lifecycle],
    ['Owner', e.owner],
    ['System', e.system],
    ['Email', spec.profile?.email],
    ['Tags', e.tags.join(', ')],
    ['Labels', Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Annotations', Object.entries(e.annotations).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Source', e.source],
    ['Version', e.version],
    ['Created', e.createdAt],
    ['Updated', e.updatedAt],
  ]);
  const links = e.links.length ? ['', 'Links:', ...indented(e.links.map((l) => [l.url, l.title ?? '']))] : [];
  return [head, ...links, ...relationLines(e.kind, e.relations ?? [])].join('\n');
}

/** List columns per kind; `entity` is the generic catalog view. */
export const COLUMNS: Record<string, { headers: string[]; row(e: Entity): Cell[] }> = {
  application: {
    headers: ['NAME', 'OWNER', 'TYPE', 'LIFECYCLE', 'SYSTEM', 'TAGS'],
    row: (e) => [displayName(e), shortRef(e.owner, 'team'), e.type, e.lifecycle, shortRef(e.system, 'system'), e.tags.join(',')],
  },
  team: {
    headers: ['NAME', 'TYPE', 'TITLE', 'PARENT', 'EMAIL'],
    row: (e) => {
      const s = e.spec as { parent?: string; profile?: { email?: string } };
      return [displayName(e), e.type, e.title, s.parent, s.profile?.email];
    },
  },
  user: {
    headers: ['NAME', 'DISPLAY NAME', 'EMAIL', 'TEAMS'],
    row: (e) => {
      const s = e.spec as { profile?: { email?: string }; memberOf?: string[] };
      return [displayName(e), e.title, s.profile?.email, (s.memberOf ?? []).join(',')];
    },
  },
  entity: {
    headers: ['REF', 'TITLE', 'OWNER', 'TYPE', 'LIFECYCLE'],
    row: (e) => [e.ref, e.title, shortRef(e.owner, 'team'), e.type, e.lifecycle],
  },
};
