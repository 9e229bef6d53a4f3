import { sql, type Transaction } from 'kysely';
import type {
  ApplicationCreateSchema,
  ApplicationUpdateSchema,
  Entity,
  EntityKind,
  EntityListQuery,
  ImportRequestSchema,
  ImportResult,
  Relation,
  TeamCreateSchema,
  TeamUpdateSchema,
  UserCreateSchema,
  UserUpdateSchema,
} from '../contracts/catalog.ts';
import type { FieldError, Page } from '../contracts/common.ts';
import { conflict, PaveError, validationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import type { z } from 'zod';
import { DescriptorError, draftFromDescriptor } from './descriptor.ts';
import { toDescriptor } from './export.ts';
import { refOf, type EntityDraft } from './model.ts';
import { importFiles } from './import.ts';
import * as repo from './repository.ts';

export type TeamInput = z.output<typeof TeamCreateSchema>;
export type TeamPatch = z.output<typeof TeamUpdateSchema>;
export type UserInput = z.output<typeof UserCreateSchema>;
export type UserPatch = z.output<typeof UserUpdateSchema>;
export type ApplicationInput = z.output<typeof ApplicationCreateSchema>;
export type ApplicationPatch = z.output<typeof ApplicationUpdateSchema>;
type WritableKind = 'team' | 'user' | 'application';
type Descriptor = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };

const compact = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** API input → Backstage-shaped descriptor, so API writes and imports share one validation path. */
function metadataOf(i: { name: string; namespace: string; title?: string | undefined; description?: string | undefined; tags?: string[] | undefined; labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined; links?: unknown[] | undefined }) {
  return compact({ name: i.name, namespace: i.namespace, title: i.title, description: i.description, tags: i.tags, labels: i.labels, annotations: i.annotations, links: i.links });
}

function teamDescriptor(i: TeamInput): Descriptor {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: metadataOf(i),
    spec: compact({ type: i.type, parent: i.parent, members: i.members, profile: i.email || i.title ? compact({ email: i.email, displayName: i.title }) : undefined }),
  };
}
function userDescriptor(i: UserInput): Descriptor {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: metadataOf(i),
    spec: compact({ profile: i.email || i.displayName ? compact({ email: i.email, displayName: i.displayName }) : undefined, memberOf: i.memberOf ?? [] }),
  };
}
function applicationDescriptor(i: ApplicationInput): Descriptor {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: metadataOf(i),
    spec: compact({ type: i.type, lifecycle: i.lifecycle, owner: i.owner, system: i.system, dependsOn: i.dependsOn, providesApis: i.providesApis, consumesApis: i.consumesApis }),
  };
}

/** Descriptor field path → the API body field it came from. */
function bodyPath(path: string | null): string {
  const p = (path ?? '').replace(/^(metadata|spec)\.(profile\.)?/, '');
  return p ? `body.${p}` : 'body';
}

function toDraft(d: Descriptor): EntityDraft {
  try {
    return draftFromDescriptor(d);
  } catch (err) {
    if (err instanceof DescriptorError) throw validationError(err.message, [{ path: bodyPath(err.path), message: err.message }]);
    throw err;
  }
}

/** Entity → the API input that would produce it (for PATCH: read, merge, write). */
function inputOf(e: Entity): Record<string, unknown> {
  const d = toDescriptor(e) as Descriptor;
  const m = d.metadata;
  const s = d.spec;
  const profile = (s.profile ?? {}) as Record<string, unknown>;
  const base = compact({ name: e.name, namespace: e.namespace, title: m.title, description: m.description, tags: m.tags, labels: m.labels, annotations: m.annotations, links: m.links });
  if (e.kind === 'team') return compact({ ...base, type: s.type, parent: s.parent, members: s.members, email: profile.email });
  if (e.kind === 'user') return compact({ ...base, displayName: profile.displayName, email: profile.email, memberOf: s.memberOf });
  return compact({ ...base, owner: s.owner, type: s.type, lifecycle: s.lifecycle, system: s.system, dependsOn: s.dependsOn, providesApis: s.providesApis, consumesApis: s.consumesApis });
}

const DESCRIPTORS: Record<WritableKind, (i: never) => Descriptor> = { team: teamDescriptor, user: userDescriptor, application: applicationDescriptor };

/** Relations an API write may only make to entities that exist (imports may leave them unresolved). */
const MUST_EXIST: Record<string, string> = { ownedBy: 'owner', memberOf: 'memberOf', hasMember: 'members', childOf: 'parent', partOf: 'system' };

export class CatalogService {
  readonly db: Db;
  private readonly deleted: ((e: { id: string; kind: string; ref: string }) => void)[] = [];
  constructor(db: Db) {
    this.db = db;
  }

  async list(q: Partial<EntityListQuery> & { limit: number }): Promise<Page<Entity>> {
    const page = await repo.listEntities(this.db, q);
    return { items: page.items.map((r) => repo.entityView(r)), nextCursor: page.nextCursor };
  }

  /** The same page as list, as the response body's JSON (written by the database; see listEntitiesJson). */
  listJson(q: Partial<EntityListQuery> & { limit: number }): Promise<Buffer> {
    return repo.listEntitiesJson(this.db, q);
  }

  async get(ref: string): Promise<Entity> {
    const [row, relations] = await Promise.all([repo.getEntity(this.db, ref), repo.relationsOf(this.db, ref)]);
    return repo.entityView(row, relations);
  }

  /** References in `draft` to entities that must exist; those already in `existing` (e.g. left unresolved by an import) are kept. */
  private async checkTargets(tx: Transaction<Database> | Db, draft: EntityDraft, existing: Relation[] = []): Promise<void> {
    const have = new Set(existing.map((r) => `${r.type} ${r.targetRef}`));
    const wanted = draft.relations.filter((r) => MUST_EXIST[r.type] && !have.has(`${r.type} ${r.target}`));
    const found = await repo.existingRefs(tx, wanted.map((r) => r.target));
    const errors: FieldError[] = wanted
      .filter((r) => !found.has(r.target))
      .map((r) => ({ path: `body.${MUST_EXIST[r.type]}`, message: `${r.target} is not in the catalog`, code: 'unresolved_reference' }));
    if (errors.length) throw validationError(`references to entities that do not exist: ${errors.map((e) => e.message).join('; ')}`, errors);
  }

  async create(kind: WritableKind, input: TeamInput | UserInput | ApplicationInput): Promise<Entity> {
    const ref = await this.db.transaction().execute((tx) => this.createIn(tx, kind, input));
    return this.get(ref);
  }

  /** Creates an entity inside the caller's transaction (e.g. with an application's golden-path record); returns its ref. */
  async createIn(tx: Transaction<Database>, kind: WritableKind, input: TeamInput | UserInput | ApplicationInput): Promise<string> {
    const draft = toDraft(DESCRIPTORS[kind](input as never));
    const ref = refOf(draft.kind, draft.namespace, draft.name);
    if (await repo.findEntity(tx, ref)) throw conflict(`${ref} already exists`);
    await this.checkTargets(tx, draft);
    await repo.upsertEntities(tx, [{ draft, source: 'api' }]);
    return ref;
  }

  async update(kind: WritableKind, ref: string, expectedVersion: number, patch: TeamPatch | UserPatch | ApplicationPatch): Promise<Entity> {
    const current = await this.get(ref);
    if (current.kind !== kind) throw new PaveError(404, 'not-found', 'Not found', `${ref} is not a ${kind}`);
    const merged = { ...inputOf(current), ...compact(patch as Record<string, unknown>) };
    const next = DESCRIPTORS[kind](merged as never);
    // Keep the spec fields the API does not model (a group's children, subcomponentOf, profile.picture, …).
    const stored = current.spec;
    const profile = stored.profile || next.spec.profile ? { ...(stored.profile as object | undefined), ...(next.spec.profile as object | undefined) } : undefined;
    next.spec = compact({ ...stored, ...next.spec, profile });
    const draft = toDraft(next);
    await this.checkTargets(this.db, draft, current.relations);
    await repo.updateEntity(this.db, ref, expectedVersion, draft, current.source);
    return this.get(ref);
  }

  async delete(kind: EntityKind, ref: string, expectedVersion: number | undefined): Promise<void> {
    const row = await repo.getEntity(this.db, ref);
    if (row.kind !== kind) throw new PaveError(404, 'not-found', 'Not found', `${ref} is not a ${kind}`);
    if (kind === 'team') {
      const owned = await this.db.selectFrom('entities').select('ref').where('owner_ref', '=', ref).where('kind', '=', 'application').limit(5).execute();
      if (owned.length) throw conflict(`${ref} still owns applications (${owned.map((o) => o.ref).join(', ')}); give them another owner or delete them first`);
    }
    if (kind === 'user') {
      const admins = await this.db.selectFrom('user_accounts').select('user_id').where(sql<boolean>`roles @> ARRAY['admin']::text[]`).execute();
      if (admins.length === 1 && admins[0]!.user_id === row.id) throw conflict(`${ref} is the only admin; make another user admin first`);
    }
    await repo.deleteEntity(this.db, ref, expectedVersion);
    for (const listener of this.deleted) listener({ id: row.id, kind: row.kind, ref: row.ref });
  }

  /** Called after an entity is deleted (e.g. so that a deleted user's cached tokens stop working at once). */
  onDeleted(listener: (e: { id: string; kind: string; ref: string }) => void): void {
    this.deleted.push(listener);
  }

  import(req: z.output<typeof ImportRequestSchema>): Promise<ImportResult> {
    return importFiles(this.db, req.files, req.dryRun);
  }
}
