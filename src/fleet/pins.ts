import type { Pin, PatternKind } from '../contracts/fleet.ts';
import { conflict, notFound } from '../errors.ts';
import type { Db } from '../store/db.ts';

/**
 * Pins: an application held at the version of a template or add-on it uses now, with a reason its
 * owners give. Plans leave pinned applications out ("pinned: <reason>"); the fleet view lists pins.
 */
type PinRow = { entity_id: string; ref: string; kind: PatternKind; name: string; version: string; reason: string; created_by: string; created_at: Date };

const view = (r: PinRow): Pin => ({ application: r.ref, kind: r.kind, name: r.name, version: r.version, reason: r.reason, createdBy: r.created_by, createdAt: new Date(r.created_at).toISOString() });

function select(db: Db) {
  return db
    .selectFrom('fleet_pins as p')
    .innerJoin('entities as e', 'e.id', 'p.entity_id')
    .select(['p.entity_id', 'e.ref', 'p.kind', 'p.name', 'p.version', 'p.reason', 'p.created_by', 'p.created_at'])
    .orderBy('e.ref')
    .orderBy('p.kind')
    .orderBy('p.name');
}

/** Pins of one application. */
export async function pinsOf(db: Db, entityId: string): Promise<Pin[]> {
  return (await select(db).where('p.entity_id', '=', entityId).execute()).map(view);
}

/** Pins on a template or add-on (or all), by application entity id. */
export async function pinsOn(db: Db, kind?: PatternKind, name?: string): Promise<Map<string, Pin[]>> {
  let q = select(db);
  if (kind) q = q.where('p.kind', '=', kind);
  if (name) q = q.where('p.name', '=', name);
  const out = new Map<string, Pin[]>();
  for (const r of await q.execute()) out.set(r.entity_id, [...(out.get(r.entity_id) ?? []), view(r)]);
  return out;
}

/** Pins the application at `version` (what it uses now); pinning again replaces the reason. */
export async function pin(db: Db, app: { entityId: string; ref: string }, kind: PatternKind, name: string, version: string | null, reason: string, by: string): Promise<Pin> {
  if (version === null) throw conflict(`${app.ref} does not use ${kind === 'template' ? 'template' : 'add-on'} ${name}, so there is nothing to pin`);
  await db
    .insertInto('fleet_pins')
    .values({ entity_id: app.entityId, kind, name, version, reason, created_by: by })
    .onConflict((oc) => oc.columns(['entity_id', 'kind', 'name']).doUpdateSet({ version, reason, created_by: by, created_at: new Date() }))
    .execute();
  return (await pinsOf(db, app.entityId)).find((p) => p.kind === kind && p.name === name)!;
}

export async function unpin(db: Db, app: { entityId: string; ref: string }, kind: PatternKind, name: string): Promise<Pin> {
  const existing = (await pinsOf(db, app.entityId)).find((p) => p.kind === kind && p.name === name);
  if (!existing) throw notFound(`a pin of ${app.ref} on ${kind} ${name}`);
  await db.deleteFrom('fleet_pins').where('entity_id', '=', app.entityId).where('kind', '=', kind).where('name', '=', name).execute();
  return existing;
}
