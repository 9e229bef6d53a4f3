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

/** A relation one entity declares; its inverse is derived when relations are read. `target` is a full, lower-case ref. */
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

/**
 * The relation rows an entity's declarations produce: one per declared relation (type and target),
 * de-duplicated. Inverses are not stored: the store derives them from the declaring rows (by target).
 */
export function relationRows(sourceRef: string, relations: DeclaredRelation[]): { source_ref: string; type: string; target_ref: string }[] {
  const seen = new Set<string>();
  const rows: { source_ref: string; type: string; target_ref: string }[] = [];
  for (const r of relations) {
    const key = `${r.type}\u0000${r.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ source_ref: sourceRef, type: r.type, target_ref: r.target });
  }
  return rows;
}

// ---- JSON text with a given key order --------------------------------------------------------------

/**
 * Whether JavaScript keeps `key` among an object's integer-indexed properties, which it enumerates first,
 * in ascending numeric order, whatever the insertion order (array indices: 0 … 2^32 - 2).
 */
function isIndexKey(key: string): boolean {
  if (key.length === 0 || key.length > 10) return false;
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57 || (c === 48 && key.length > 1)) return false;
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return Number(key) < 4294967295;
}

/** Positions of `keys` in the order JavaScript enumerates an object built with them inserted in `order`'s order. */
function enumerationOrder(keys: string[], order: (a: string, b: string) => number): number[] {
  const positions = keys.map((_, i) => i);
  return positions.sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    const ia = isIndexKey(ka);
    const ib = isIndexKey(kb);
    if (ia || ib) return ia && ib ? Number(ka) - Number(kb) : ia ? -1 : 1;
    return order(ka, kb);
  });
}

/** Default sort order (UTF-16 code units), as Array.prototype.sort without a comparator. */
const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Key order of PostgreSQL's jsonb: shorter keys first (UTF-8 bytes), then by their UTF-8 bytes. */
function jsonbKeyOrder(a: string, b: string): number {
  if (ASCII.test(a) && ASCII.test(b)) return a.length !== b.length ? a.length - b.length : codeUnitOrder(a, b);
  const la = Buffer.byteLength(a);
  const lb = Buffer.byteLength(b);
  return la !== lb ? la - lb : Buffer.compare(Buffer.from(a), Buffer.from(b));
}
const ASCII = /^[\x00-\x7f]*$/;

/**
 * `value` with every object's keys in `order`'s order, as JSON.stringify will enumerate them (integer-like
 * keys first, whatever the order): the value itself, or its parts, where they are in that order already,
 * so that writing an entity's JSON builds few objects. Objects that are not plain data (a Date, a Map)
 * are left to JSON.stringify, or with `plain` become plain objects of their own enumerable properties
 * (as the content digest always made them). Meant for JSON.stringify only.
 */
function ordered(value: unknown, order: (a: string, b: string) => number, plain = false): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = ordered(v, order, plain);
      if (r !== v && !out) out = value.slice(0, i);
      out?.push(r);
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  const proto: unknown = Object.getPrototypeOf(value);
  const isPlain = proto === Object.prototype || proto === null;
  if (!isPlain && !plain) return value;
  const keys = Object.keys(value);
  let inOrder = isPlain;
  let previous: string | undefined;
  for (const k of keys) {
    if (!inOrder) break;
    if (isIndexKey(k)) continue;
    if (previous !== undefined && order(previous, k) > 0) inOrder = false;
    previous = k;
  }
  let values: unknown[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]!];
    const r = ordered(v, order, plain);
    if (r !== v && !values) values = keys.slice(0, i).map((k) => record[k]);
    values?.push(r);
  }
  if (inOrder && !values) return value;
  const out: Record<string, unknown> = {};
  for (const i of enumerationOrder(keys, order)) {
    const k = keys[i]!;
    const v = values ? values[i] : record[k];
    // a "__proto__" key stays a key, as in parsed JSON
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

/**
 * JSON text of a value as the catalog stores it (`json` columns, sent to clients as is): compact, with
 * object keys in the order they had when these columns were jsonb (length, then bytes; JavaScript puts
 * integer-like keys first), so that responses are byte for byte what parsing the jsonb and
 * JSON.stringify gave.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(ordered(value, jsonbKeyOrder)) ?? 'null';
}

/**
 * Content digest of a draft: equal drafts hash equal, so re-importing unchanged files writes nothing.
 * The digest of JSON.stringify of the draft with every object's keys sorted (as stored digests were made).
 */
export function hashDraft(d: EntityDraft): string {
  return createHash('sha256').update(JSON.stringify(ordered(d, codeUnitOrder, true))).digest('base64url');
}
