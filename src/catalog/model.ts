import { createHash } from 'node:crypto';
import { RELATION_PAIRS, type EntityKind, type Link } from '../contracts/catalog.ts';

/**
 * The catalog's model, shared by the API, the Backstage importer and the store. An entity is kept in
 * Backstage's shape (metadata + spec), so import and export are lossless; its kind is Pave's name.
 */

/** Backstage kind (lower-case) → Pave kind. */
export const FROM_BACKSTAGE_KIND: Record<string, EntityKind> = {
  group: 'team',
  user: 'user',
  component: 'application',
  system: 'system',
  domain: 'domain',
  api: 'api',
  resource: 'resource',
};
/** Pave kind → Backstage kind as written in descriptors. */
export const TO_BACKSTAGE_KIND: Record<EntityKind, string> = {
  team: 'Group',
  user: 'User',
  application: 'Component',
  system: 'System',
  domain: 'Domain',
  api: 'API',
  resource: 'Resource',
};

/** A relation one entity declares; the store adds its inverse. `target` is a full, lower-case ref. */
export interface DeclaredRelation {
  type: keyof typeof RELATION_PAIRS | (typeof RELATION_PAIRS)[keyof typeof RELATION_PAIRS];
  target: string;
}

/** A validated, normalised entity ready to be stored: what an import document or an API call becomes. */
export interface EntityDraft {
  kind: EntityKind;
  namespace: string;
  name: string;
  title: string | null;
  description: string | null;
  type: string | null;
  lifecycle: string | null;
  owner: string | null;
  system: string | null;
  tags: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: Link[];
  spec: Record<string, unknown>;
  relations: DeclaredRelation[];
}

export function refOf(kind: string, namespace: string, name: string): string {
  return `${kind}:${namespace}/${name}`.toLowerCase();
}

export interface ParsedRef {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Parses `[kind:][namespace/]name` as Backstage does, with Backstage kind names mapped to Pave's
 * (group → team, component → application). Returns undefined for a malformed reference.
 */
export function parseRef(input: string, defaults: { kind?: string; namespace?: string } = {}): ParsedRef | undefined {
  const s = input.trim();
  const m = /^(?:([A-Za-z][A-Za-z0-9]*):)?(?:([a-zA-Z0-9][a-zA-Z0-9-]*)\/)?([a-zA-Z0-9][a-zA-Z0-9._-]*)$/.exec(s);
  if (!m) return undefined;
  const rawKind = (m[1] ?? defaults.kind)?.toLowerCase();
  if (!rawKind) return undefined;
  const kind = FROM_BACKSTAGE_KIND[rawKind] ?? rawKind;
  return { kind, namespace: (m[2] ?? defaults.namespace ?? 'default').toLowerCase(), name: m[3]! };
}

/** Full lower-case ref of `input`, or undefined when it is malformed. */
export function toRef(input: string, defaults: { kind?: string; namespace?: string } = {}): string | undefined {
  const p = parseRef(input, defaults);
  return p ? refOf(p.kind, p.namespace, p.name) : undefined;
}

export function inverseOf(type: string): string {
  for (const [fwd, inv] of Object.entries(RELATION_PAIRS)) {
    if (fwd === type) return inv;
    if (inv === type) return fwd;
  }
  throw new Error(`unknown relation type ${type}`);
}

/** Every relation row an entity's declarations produce: each declared relation and its inverse. */
export function relationRows(sourceRef: string, relations: DeclaredRelation[]): { source_ref: string; type: string; target_ref: string }[] {
  const seen = new Set<string>();
  const rows: { source_ref: string; type: string; target_ref: string }[] = [];
  const add = (source_ref: string, type: string, target_ref: string) => {
    const key = `${source_ref}\u0000${type}\u0000${target_ref}`;
    if (seen.has(key)) return;
    seen.add(key);
    rows.push({ source_ref, type, target_ref });
  };
  for (const r of relations) {
    add(sourceRef, r.type, r.target);
    add(r.target, inverseOf(r.type), sourceRef);
  }
  return rows;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Content digest of a draft: equal drafts hash equal, so re-importing unchanged files writes nothing. */
export function hashDraft(d: EntityDraft): string {
  return createHash('sha256').update(JSON.stringify(canonical(d))).digest('base64url');
}
