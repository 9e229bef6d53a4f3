import { sql } from 'kysely';
import type { PatternKind } from '../contracts/fleet.ts';
import type { Db } from '../store/db.ts';

/**
 * The fleet as the store has it: every application made from a template (or using an add-on), with
 * its template version, inputs, add-ons, environments (and what is released in each), labels and
 * owner, read in a handful of queries whatever the number of applications.
 */
export interface FleetAddon {
  name: string;
  addon: string;
  version: string;
  inputs: Record<string, unknown>;
}

export interface FleetEnvironment {
  id: string;
  name: string;
  type: string;
  /** The released deployment, and the build it runs (redeployed by an upgrade). */
  released: { id: string; number: number; buildId: string; buildNumber: number } | null;
}

export interface FleetApp {
  entityId: string;
  ref: string;
  namespace: string;
  name: string;
  /** The owner's ref (team:default/payments), or null. */
  owner: string | null;
  /** The owning team's ref, when a team owns it. */
  team: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  template: string;
  templateVersion: string;
  inputs: Record<string, unknown>;
  /** The application's own Score workload, or null when it uses its template's. */
  workload: Record<string, unknown> | null;
  addons: FleetAddon[];
  environments: FleetEnvironment[];
}

export interface InventoryFilter {
  kind?: PatternKind | undefined;
  /** The template (kind template) or add-on (kind addon) the applications use. */
  name?: string | undefined;
  entityIds?: string[] | undefined;
}

const teamOf = (owner: string | null) => (owner?.startsWith('team:') ? owner : null);

/** Applications Pave manages, with everything an upgrade plan needs; ordered by ref. */
export async function loadApps(db: Db, f: InventoryFilter = {}): Promise<FleetApp[]> {
  let q = db
    .selectFrom('applications as a')
    .innerJoin('entities as e', 'e.id', 'a.entity_id')
    .select(['e.id', 'e.ref', 'e.namespace', 'e.name', 'e.owner_ref', 'e.labels', 'e.annotations', 'a.template', 'a.template_version', 'a.inputs', 'a.workload'])
    .orderBy('e.ref');
  if (f.entityIds) {
    if (!f.entityIds.length) return [];
    q = q.where('a.entity_id', 'in', f.entityIds);
  }
  if (f.name && f.kind === 'template') q = q.where('a.template', '=', f.name);
  if (f.name && f.kind === 'addon') q = q.where((eb) => eb.exists(eb.selectFrom('application_addons as x').select('x.entity_id').whereRef('x.entity_id', '=', 'a.entity_id').where('x.addon', '=', f.name!)));
  const rows = await q.execute();
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [addons, envs] = await Promise.all([
    db.selectFrom('application_addons').selectAll().where('entity_id', '=', sql<string>`ANY(${ids}::uuid[])`).orderBy('name').execute(),
    db
      .selectFrom('environments as v')
      .leftJoin('deployments as d', 'd.id', 'v.released_deployment_id')
      .leftJoin('builds as b', 'b.id', 'd.build_id')
      .select(['v.id', 'v.entity_id', 'v.name', 'v.type', 'v.status', 'd.id as deployment_id', 'd.number as deployment_number', 'b.id as build_id', 'b.number as build_number'])
      .where('v.entity_id', '=', sql<string>`ANY(${ids}::uuid[])`)
      .orderBy('v.created_at')
      .execute(),
  ]);
  const byApp = new Map<string, FleetApp>();
  const out = rows.map((r) => {
    const app: FleetApp = {
      entityId: r.id, ref: r.ref, namespace: r.namespace, name: r.name, owner: r.owner_ref, team: teamOf(r.owner_ref), labels: r.labels ?? {}, annotations: r.annotations ?? {},
      template: r.template, templateVersion: r.template_version, inputs: r.inputs ?? {}, workload: r.workload ?? null, addons: [], environments: [],
    };
    byApp.set(r.id, app);
    return app;
  });
  for (const a of addons) byApp.get(a.entity_id)?.addons.push({ name: a.name, addon: a.addon, version: a.version, inputs: a.inputs ?? {} });
  for (const v of envs) {
    byApp.get(v.entity_id)?.environments.push({
      id: v.id, name: v.name, type: v.type,
      released: v.deployment_id && v.build_id ? { id: v.deployment_id, number: Number(v.deployment_number), buildId: v.build_id, buildNumber: Number(v.build_number) } : null,
    });
  }
  return out;
}

export async function loadApp(db: Db, entityId: string): Promise<FleetApp | undefined> {
  return (await loadApps(db, { entityIds: [entityId] }))[0];
}

/** The version of the pattern an application uses: its template's, or its instances' of an add-on (lowest first, joined). */
export function versionOf(app: FleetApp, kind: PatternKind, name: string): string | null {
  if (kind === 'template') return app.template === name ? app.templateVersion : null;
  const versions = [...new Set(app.addons.filter((a) => a.addon === name).map((a) => a.version))].sort();
  return versions.length ? versions.join(',') : null;
}
