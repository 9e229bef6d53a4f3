import type { EntityKind, RELATION_PAIRS } from '../../../src/contracts/catalog.ts';

/** Kinds in the order the portal lists them. The check below fails to compile if the contracts add one. */
export const KINDS = ['application', 'team', 'user', 'system', 'domain', 'api', 'resource'] as const satisfies readonly EntityKind[];
type MissingKind = Exclude<EntityKind, (typeof KINDS)[number]>;
const allKindsListed: [MissingKind] extends [never] ? true : MissingKind = true;
void allKindsListed;

export const KIND_LABELS: Record<EntityKind, { one: string; many: string; color: string }> = {
  application: { one: 'Application', many: 'Applications', color: 'blue' },
  team: { one: 'Team', many: 'Teams', color: 'grape' },
  user: { one: 'User', many: 'Users', color: 'teal' },
  system: { one: 'System', many: 'Systems', color: 'indigo' },
  domain: { one: 'Domain', many: 'Domains', color: 'orange' },
  api: { one: 'API', many: 'APIs', color: 'cyan' },
  resource: { one: 'Resource', many: 'Resources', color: 'lime' },
};

export function isKind(s: string | null | undefined): s is EntityKind {
  return (KINDS as readonly string[]).includes(s ?? '');
}

type RelationType = keyof typeof RELATION_PAIRS | (typeof RELATION_PAIRS)[keyof typeof RELATION_PAIRS];

/** Relation types as a reader says them: "wayback-archive → Owned by → team-a". */
export const RELATION_LABELS: Record<RelationType, string> = {
  ownedBy: 'Owned by',
  ownerOf: 'Owns',
  partOf: 'Part of',
  hasPart: 'Has part',
  dependsOn: 'Depends on',
  dependencyOf: 'Dependency of',
  providesApi: 'Provides API',
  apiProvidedBy: 'API provided by',
  consumesApi: 'Consumes API',
  apiConsumedBy: 'API consumed by',
  memberOf: 'Member of',
  hasMember: 'Has member',
  childOf: 'Child of',
  parentOf: 'Parent of',
};
const RELATION_ORDER = Object.keys(RELATION_LABELS);

export function relationLabel(type: string): string {
  return type in RELATION_LABELS ? RELATION_LABELS[type as RelationType] : type;
}

/** Sorts relation types in a stable, meaningful order (the order of RELATION_LABELS, unknown ones last). */
export function compareRelationTypes(a: string, b: string): number {
  const ia = RELATION_ORDER.indexOf(a);
  const ib = RELATION_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

export interface ParsedRef {
  kind: string;
  namespace: string;
  name: string;
}

/** `kind:namespace/name` → its parts; a bare name or `namespace/name` gets the defaults. */
export function parseRef(ref: string, defaultKind = 'team'): ParsedRef {
  const m = /^(?:([a-z]+):)?(?:([^/:]+)\/)?(.+)$/.exec(ref);
  return { kind: m?.[1] ?? defaultKind, namespace: m?.[2] ?? 'default', name: m?.[3] ?? ref };
}

/** The portal page of an entity. */
export function entityPath(kind: string, namespace: string, name: string): string {
  const ns = encodeURIComponent(namespace);
  const n = encodeURIComponent(name);
  if (kind === 'application') return `/applications/${ns}/${n}`;
  if (kind === 'team') return `/teams/${ns}/${n}`;
  return `/entities/${encodeURIComponent(kind)}/${ns}/${n}`;
}

export function refPath(ref: string): string {
  const r = parseRef(ref);
  return entityPath(r.kind, r.namespace, r.name);
}

/** How an entity is named on screen: its title, else its name (with the namespace when not default). */
export function displayName(e: { title: string | null; name: string; namespace: string }): string {
  return e.title ?? (e.namespace === 'default' ? e.name : `${e.namespace}/${e.name}`);
}

export function refDisplayName(ref: string): string {
  const r = parseRef(ref);
  return r.namespace === 'default' ? r.name : `${r.namespace}/${r.name}`;
}
