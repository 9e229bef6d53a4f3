import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { LinkSchema, TagSchema, type EntityKind, type ImportError } from '../contracts/catalog.ts';
import { NameSchema, NamespaceSchema } from '../contracts/common.ts';
import { FROM_BACKSTAGE_KIND, TO_BACKSTAGE_KIND, refOf, toRef, type DeclaredRelation, type EntityDraft } from './model.ts';

/**
 * Backstage catalog descriptors (catalog-info.yaml) → validated, normalised EntityDrafts, following the
 * validation rules and relation processing of Backstage's catalog model.
 */

export const API_VERSIONS = ['backstage.io/v1alpha1', 'backstage.io/v1beta1'] as const;
/** Kinds Pave reads but does not keep. */
const SKIPPED_KINDS = new Set(['location']);

/** A descriptor that breaks the rules; `path` is the offending field, e.g. "metadata.name", or null. */
export class DescriptorError extends Error {
  path: string | null;
  constructor(message: string, path: string | null) {
    super(message);
    this.name = 'DescriptorError';
    this.path = path;
  }
}

// ---- schemas -------------------------------------------------------------------------------------

const Text = z.string().min(1);
const Refs = z.array(Text);
const StringMap = z.record(z.string(), z.string());
const Placeholder = z.union([
  z.strictObject({ $text: Text }),
  z.strictObject({ $json: Text }),
  z.strictObject({ $yaml: Text }),
]);
const Definition = z.union([Text, Placeholder], { error: 'must be a string or a placeholder such as {$text: <url>}' });
const Profile = z.looseObject({ displayName: z.string().optional(), email: z.string().optional(), picture: z.string().optional() });

const EnvelopeSchema = z.looseObject({
  apiVersion: z.enum(API_VERSIONS, { error: `must be one of ${API_VERSIONS.join(', ')}` }),
  kind: Text,
});

// Bounded so that the search document stays within PostgreSQL's 1 MB tsvector limit.
const MetadataSchema = z.looseObject({
  name: NameSchema,
  namespace: NamespaceSchema.default('default'),
  title: z.string().max(1000).optional(),
  description: z.string().max(100_000).optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  tags: z.array(TagSchema).max(1000).optional(),
  links: z.array(LinkSchema).optional(),
});

/** Required and known spec fields per kind, as Backstage's kind schemas; unknown fields are kept. */
const SPEC_SCHEMAS = {
  application: z.looseObject({
    type: Text,
    lifecycle: Text,
    owner: Text,
    system: Text.optional(),
    subcomponentOf: Text.optional(),
    providesApis: Refs.optional(),
    consumesApis: Refs.optional(),
    dependsOn: Refs.optional(),
    dependencyOf: Refs.optional(),
  }),
  api: z.looseObject({ type: Text, lifecycle: Text, owner: Text, definition: Definition, system: Text.optional() }),
  resource: z.looseObject({
    type: Text,
    owner: Text,
    system: Text.optional(),
    dependsOn: Refs.optional(),
    dependencyOf: Refs.optional(),
  }),
  system: z.looseObject({ owner: Text, domain: Text.optional(), type: Text.optional() }),
  domain: z.looseObject({ owner: Text, subdomainOf: Text.optional(), type: Text.optional() }),
  user: z.looseObject({ memberOf: Refs.default([]), profile: Profile.optional() }),
  team: z.looseObject({
    type: Text,
    children: Refs.default([]),
    parent: Text.optional(),
    members: Refs.optional(),
    profile: Profile.optional(),
  }),
} satisfies Record<EntityKind, z.ZodType>;

/** Spec fields holding entity refs: the relation each declares and the kind a bare name defaults to. */
interface RefField {
  field: string;
  relation: DeclaredRelation['type'];
  defaultKind: string;
  many: boolean;
}
const OWNER: RefField = { field: 'owner', relation: 'ownedBy', defaultKind: 'group', many: false };
const SYSTEM: RefField = { field: 'system', relation: 'partOf', defaultKind: 'system', many: false };
const DEPENDS_ON: RefField = { field: 'dependsOn', relation: 'dependsOn', defaultKind: 'component', many: true };
const DEPENDENCY_OF: RefField = { field: 'dependencyOf', relation: 'dependencyOf', defaultKind: 'component', many: true };
const REF_FIELDS: Record<EntityKind, RefField[]> = {
  application: [
    OWNER,
    SYSTEM,
    { field: 'subcomponentOf', relation: 'partOf', defaultKind: 'component', many: false },
    { field: 'providesApis', relation: 'providesApi', defaultKind: 'api', many: true },
    { field: 'consumesApis', relation: 'consumesApi', defaultKind: 'api', many: true },
    DEPENDS_ON,
    DEPENDENCY_OF,
  ],
  api: [OWNER, SYSTEM],
  resource: [OWNER, SYSTEM, DEPENDS_ON, DEPENDENCY_OF],
  system: [OWNER, { field: 'domain', relation: 'partOf', defaultKind: 'domain', many: false }],
  domain: [OWNER, { field: 'subdomainOf', relation: 'partOf', defaultKind: 'domain', many: false }],
  user: [{ field: 'memberOf', relation: 'memberOf', defaultKind: 'group', many: true }],
  team: [
    { field: 'parent', relation: 'childOf', defaultKind: 'group', many: false },
    { field: 'children', relation: 'parentOf', defaultKind: 'group', many: true },
    { field: 'members', relation: 'hasMember', defaultKind: 'user', many: true },
  ],
};

// ---- error reporting -----------------------------------------------------------------------------

export function formatPath(segments: readonly PropertyKey[]): string | null {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out || null;
}

function valueAt(value: unknown, segments: readonly PropertyKey[]): unknown {
  let v = value;
  for (const s of segments) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[s];
  }
  return v;
}

const TYPE_NAMES: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string' };

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const value = valueAt(input, issue.path);
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    return 'is required';
  }
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'unrecognized_keys':
      return `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `${issue.message} (got ${JSON.stringify(value)})` : `must be a valid ${issue.format} (got ${JSON.stringify(value)})`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters` : `must have at most ${issue.maximum} items`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must have at least ${issue.minimum} items`;
    case 'invalid_value':
    case 'invalid_union':
      return `${issue.message} (got ${JSON.stringify(value)})`;
    default:
      return issue.message;
  }
}

/** Parses `value` with `schema`, or throws a DescriptorError for the first problem, its path under `base`. */
function check<S extends z.ZodType>(schema: S, value: unknown, base: PropertyKey[]): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath([...base, ...issue.path]);
  const detail = describeIssue(issue, value);
  throw new DescriptorError(path ? `${path} ${detail}` : `document ${detail}`, path);
}

// ---- normalisation -------------------------------------------------------------------------------

function kindOf(doc: unknown): string | undefined {
  const kind = valueAt(doc, ['kind']);
  return typeof kind === 'string' ? kind.toLowerCase() : undefined;
}

function supportedKinds(): string {
  return Object.values(TO_BACKSTAGE_KIND).join(', ');
}

/** Whether a string (value or key) in `value` holds a NUL character (nulAt finds where; this allocates nothing). */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.indexOf('\u0000') !== -1;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasNul(value[i])) return true;
    return false;
  }
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k.indexOf('\u0000') !== -1 || hasNul((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** Path of the first string (value or key) holding a NUL character, which PostgreSQL cannot store. */
function nulAt(value: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const key = Array.isArray(value) ? Number(k) : k;
    const found = k.includes('\u0000') ? [...path, key] : nulAt(v, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/** A deep copy of parsed YAML or JSON (plain objects, arrays, scalars): structuredClone's result, with less garbage. */
function cloneData(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneData);
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = cloneData((value as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

/** Validates one Backstage descriptor and normalises it; throws DescriptorError naming the offending field. */
export function draftFromDescriptor(doc: unknown): EntityDraft {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DescriptorError('document must be a mapping with apiVersion, kind, metadata and spec', null);
  }
  const nul = hasNul(doc) ? nulAt(doc, []) : undefined;
  if (nul) {
    const path = formatPath(nul);
    throw new DescriptorError(`${path} must not contain NUL characters (\\u0000)`, path);
  }
  const envelope = check(EnvelopeSchema, doc, []);
  const kind = FROM_BACKSTAGE_KIND[envelope.kind.toLowerCase()];
  if (!kind) {
    const note = SKIPPED_KINDS.has(envelope.kind.toLowerCase()) ? ' (it is read but not kept)' : '';
    throw new DescriptorError(`unsupported kind "${envelope.kind}"${note}; supported kinds are ${supportedKinds()}`, 'kind');
  }
  const metadata = check(MetadataSchema, envelope['metadata'], ['metadata']);
  const rawSpec = envelope['spec'] ?? (kind === 'user' || kind === 'team' ? {} : undefined);
  const parsedSpec: Record<string, unknown> = check(SPEC_SCHEMAS[kind], rawSpec, ['spec']);
  // The spec as written, plus only the defaults the schema filled in (e.g. a Group's children: []).
  const spec = cloneData(rawSpec) as Record<string, unknown>;
  for (const [key, value] of Object.entries(parsedSpec)) if (!(key in spec)) spec[key] = value;

  const namespace = metadata.namespace;
  const refs: Record<string, string[]> = {};
  const relations: DeclaredRelation[] = [];
  const seen = new Set<string>();
  for (const f of REF_FIELDS[kind]) {
    const value = spec[f.field];
    if (value === undefined) continue;
    const items = f.many ? (value as string[]) : [value as string];
    refs[f.field] = items.map((item, i) => {
      const target = toRef(item, { kind: f.defaultKind, namespace });
      if (!target) {
        const path = formatPath(f.many ? ['spec', f.field, i] : ['spec', f.field])!;
        throw new DescriptorError(`${path} is not a valid entity reference ([kind:][namespace/]name): ${JSON.stringify(item)}`, path);
      }
      const key = `${f.relation} ${target}`;
      if (!seen.has(key)) {
        seen.add(key);
        relations.push({ type: f.relation, target });
      }
      return target;
    });
  }

  const profile = parsedSpec['profile'] as z.output<typeof Profile> | undefined;
  return {
    kind,
    namespace,
    name: metadata.name,
    title: metadata.title ?? profile?.displayName ?? null,
    description: metadata.description ?? null,
    type: typeof spec['type'] === 'string' ? spec['type'] : null,
    lifecycle: typeof spec['lifecycle'] === 'string' ? spec['lifecycle'] : null,
    owner: refs['owner']?.[0] ?? null,
    system: kind === 'system' ? null : (refs['system']?.[0] ?? null),
    tags: metadata.tags ?? [],
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    links: metadata.links ?? [],
    spec,
    relations,
  };
}

/** Best-effort full ref of a (possibly invalid) descriptor, for error reports. */
function bestEffortRef(doc: unknown): string | null {
  const kind = kindOf(doc);
  const name = valueAt(doc, ['metadata', 'name']);
  if (!kind || typeof name !== 'string' || !name) return null;
  const namespace = valueAt(doc, ['metadata', 'namespace']);
  return refOf(FROM_BACKSTAGE_KIND[kind] ?? kind, typeof namespace === 'string' && namespace ? namespace : 'default', name);
}

export interface ParsedCatalogFile {
  drafts: { draft: EntityDraft; document: number }[];
  errors: ImportError[];
  /** Documents of kinds Pave does not keep (Location). */
  skipped: number;
}

/**
 * Parses a single- or multi-document catalog file. A broken document (bad YAML or a bad descriptor)
 * becomes an error for that document only; empty documents are ignored.
 */
/**
 * Documents of a YAML file: js-yaml parses at tens of MB/s, so it reads well-formed files; a file it
 * cannot read is parsed again with `yaml`, which reports each broken document on its own so that the
 * others still load. Both use the YAML 1.2 core schema (dates stay strings).
 */
function documentsOf(content: string): { value?: unknown; error?: string }[] {
  try {
    return loadAll(content, undefined, { schema: CORE_SCHEMA }).map((value) => ({ value }));
  } catch {
    return parseAllDocuments(content).map((d) => {
      if (d.errors.length > 0) return { error: `YAML syntax error: ${d.errors[0]!.message}` };
      try {
        return { value: d.toJS() };
      } catch (err) {
        return { error: `YAML error: ${err instanceof Error ? err.message : String(err)}` };
      }
    });
  }
}

export function parseCatalogFile(location: string, content: string): ParsedCatalogFile {
  const out: ParsedCatalogFile = { drafts: [], errors: [], skipped: 0 };
  documentsOf(content).forEach(({ value: doc, error }, document) => {
    const fail = (message: string, path: string | null, ref: string | null) => out.errors.push({ location, document, ref, message, path });
    if (error) {
      fail(error, null, null);
      return;
    }
    if (doc === null || doc === undefined) return;
    const kind = kindOf(doc);
    if (kind && SKIPPED_KINDS.has(kind)) {
      out.skipped++;
      return;
    }
    try {
      out.drafts.push({ draft: draftFromDescriptor(doc), document });
    } catch (err) {
      if (!(err instanceof DescriptorError)) throw err;
      fail(err.message, err.path, bestEffortRef(doc));
    }
  });
  return out;
}
