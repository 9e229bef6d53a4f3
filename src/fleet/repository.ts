import { sql } from 'kysely';
import type {
  ApplicationUpgrade,
  Exclusion,
  FleetPlan,
  FleetPlanApplication,
  FleetSelector,
  PatternKind,
  Upgrade,
  UpgradeApplication,
  UpgradeAppState,
  UpgradeEvent,
  UpgradeOptions,
  UpgradeStatus,
  UpgradeSummary,
} from '../contracts/fleet.ts';
import { FINAL_UPGRADE_STATUSES, UPGRADE_APP_STATES } from '../contracts/fleet.ts';
import { conflict, notFound } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { FleetAddon } from './inventory.ts';

/**
 * Plans, upgrades, their applications and events in the store. An upgrade's state lives here, not
 * in memory: what each application was before (`previous`) is written, with the state `upgrading`,
 * before the application is touched, so that a server that stops anywhere finds it and puts it back.
 */
export type EnvProgress = UpgradeApplication['environments'][number];

export interface PreviousState {
  templateVersion: string;
  inputs: Record<string, unknown>;
  addons: FleetAddon[];
  /** What each environment had released (the deployment that keeps serving if the upgrade fails). */
  released: Record<string, string | null>;
}

export interface UpgradeAppRow {
  upgrade_id: string;
  entity_id: string | null;
  ref: string;
  position: number;
  wave: number;
  state: UpgradeAppState;
  from_version: string;
  to_version: string;
  instances: string[];
  previous: PreviousState | null;
  environments: EnvProgress[];
  error: string | null;
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
}

/** What the runner keeps in the upgrade's options beyond the request: who started it (policies judge the upgrade's work as them). */
export type StoredOptions = UpgradeOptions & { actor: { user: string; roles: string[] } };

export interface UpgradeRow {
  id: string;
  plan_id: string;
  kind: PatternKind;
  name: string;
  version: string;
  options: StoredOptions;
  status: UpgradeStatus;
  current_wave: number | null;
  error: string | null;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
export const ACTIVE: UpgradeStatus[] = ['running', 'pausing', 'paused', 'cancelling'];
export const isFinal = (s: UpgradeStatus) => FINAL_UPGRADE_STATUSES.includes(s);

// ---- plans ----------------------------------------------------------------------------------------

export async function insertPlan(db: Db, p: { kind: PatternKind; name: string; version: string; selector: FleetSelector; inputs: Record<string, unknown>; applications: FleetPlanApplication[]; excluded: Exclusion[]; upToDate: number; createdBy: string }): Promise<string> {
  const row = await db
    .insertInto('fleet_plans')
    .values({
      kind: p.kind, name: p.name, version: p.version, selector: JSON.stringify(p.selector), inputs: JSON.stringify(p.inputs), applications: JSON.stringify(p.applications),
      excluded: JSON.stringify(p.excluded), up_to_date: p.upToDate, created_by: p.createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function getPlan(db: Db, id: string): Promise<FleetPlan & { inputs: Record<string, unknown> }> {
  const r = await db.selectFrom('fleet_plans as p').leftJoin('fleet_upgrades as u', 'u.plan_id', 'p.id').selectAll('p').select('u.id as upgrade').where('p.id', '=', id).executeTakeFirst();
  if (!r) throw notFound(`plan ${id}`);
  return {
    id: r.id, kind: r.kind, name: r.name, version: r.version, selector: r.selector as FleetSelector, applications: r.applications as FleetPlanApplication[], excluded: r.excluded as Exclusion[],
    upToDate: r.up_to_date, createdBy: r.created_by, createdAt: iso(r.created_at)!, upgrade: r.upgrade ?? null, inputs: r.inputs,
  };
}

// ---- upgrades -------------------------------------------------------------------------------------

export interface NewUpgradeApp {
  entityId: string;
  ref: string;
  position: number;
  wave: number;
  from: string;
  to: string;
  instances: string[];
  environments: EnvProgress[];
}

/** Creates the upgrade and its applications at once; refuses when the plan was applied already or one of its applications is in another active upgrade. */
export async function insertUpgrade(db: Db, u: { plan: string; kind: PatternKind; name: string; version: string; options: StoredOptions; createdBy: string; apps: NewUpgradeApp[] }): Promise<string> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(7400010)`.execute(tx);
    const used = await tx.selectFrom('fleet_upgrades').select('id').where('plan_id', '=', u.plan).executeTakeFirst();
    if (used) throw conflict(`plan ${u.plan} was applied already (upgrade ${used.id}); make a new plan`);
    const ids = u.apps.map((a) => a.entityId);
    if (ids.length) {
      const busy = await tx
        .selectFrom('fleet_upgrade_apps as a')
        .innerJoin('fleet_upgrades as g', 'g.id', 'a.upgrade_id')
        .select(['a.ref', 'g.id'])
        .where('g.status', 'in', ACTIVE)
        .where('a.state', 'in', ['pending', 'upgrading', 'reverting'])
        .where('a.entity_id', '=', sql<string>`ANY(${ids}::uuid[])`)
        .execute();
      if (busy.length) throw conflict(`${busy.slice(0, 5).map((b) => `${b.ref} (upgrade ${b.id})`).join(', ')}${busy.length > 5 ? ` and ${busy.length - 5} more are` : busy.length > 1 ? ' are' : ' is'} in an upgrade that has not finished; wait for it, or cancel it`);
    }
    const { id } = await tx
      .insertInto('fleet_upgrades')
      .values({ plan_id: u.plan, kind: u.kind, name: u.name, version: u.version, options: JSON.stringify(u.options), status: 'running', created_by: u.createdBy, started_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < u.apps.length; i += 500) {
      await tx
        .insertInto('fleet_upgrade_apps')
        .values(u.apps.slice(i, i + 500).map((a) => ({
          upgrade_id: id, entity_id: a.entityId, ref: a.ref, position: a.position, wave: a.wave, state: 'pending', from_version: a.from, to_version: a.to,
          instances: JSON.stringify(a.instances), environments: JSON.stringify(a.environments),
        })))
        .execute();
    }
    return id;
  });
}

export async function upgradeRow(db: Db, id: string): Promise<UpgradeRow> {
  const r = await db.selectFrom('fleet_upgrades').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound(`upgrade ${id}`);
  return r as unknown as UpgradeRow;
}

export async function activeUpgrades(db: Db): Promise<UpgradeRow[]> {
  return (await db.selectFrom('fleet_upgrades').selectAll().where('status', 'in', ACTIVE).orderBy('created_at').execute()) as unknown as UpgradeRow[];
}

export async function setUpgrade(db: Db, id: string, patch: { status?: UpgradeStatus; current_wave?: number | null; error?: string | null; finished_at?: Date | null }, onlyFrom?: UpgradeStatus[]): Promise<boolean> {
  let q = db.updateTable('fleet_upgrades').set({ ...patch, updated_at: new Date() }).where('id', '=', id);
  if (onlyFrom) q = q.where('status', 'in', onlyFrom);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function appRows(db: Db, upgradeId: string, states?: UpgradeAppState[]): Promise<UpgradeAppRow[]> {
  let q = db.selectFrom('fleet_upgrade_apps').selectAll().where('upgrade_id', '=', upgradeId).orderBy('wave').orderBy('position');
  if (states) q = q.where('state', 'in', states);
  return (await q.execute()) as unknown as UpgradeAppRow[];
}

export async function setApp(
  db: Db,
  upgradeId: string,
  ref: string,
  patch: { state?: UpgradeAppState; previous?: PreviousState | null; environments?: EnvProgress[]; error?: string | null; attempts?: number; started_at?: Date | null; finished_at?: Date | null; duration_ms?: number | null },
): Promise<void> {
  const { previous, environments, ...rest } = patch;
  await db
    .updateTable('fleet_upgrade_apps')
    .set({
      ...rest,
      ...(previous !== undefined ? { previous: previous === null ? null : JSON.stringify(previous) } : {}),
      ...(environments !== undefined ? { environments: JSON.stringify(environments) } : {}),
    })
    .where('upgrade_id', '=', upgradeId)
    .where('ref', '=', ref)
    .execute();
  await db.updateTable('fleet_upgrades').set({ updated_at: new Date() }).where('id', '=', upgradeId).execute();
}

/** Applications not started yet become cancelled, with the reason. */
export async function cancelPending(db: Db, upgradeId: string, reason: string): Promise<number> {
  const res = await db.updateTable('fleet_upgrade_apps').set({ state: 'cancelled', error: reason, finished_at: new Date() }).where('upgrade_id', '=', upgradeId).where('state', '=', 'pending').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

// ---- events ---------------------------------------------------------------------------------------

export async function insertEvent(db: Db, upgradeId: string, e: Omit<UpgradeEvent, 'seq' | 'at'>): Promise<UpgradeEvent> {
  const r = await db
    .insertInto('fleet_upgrade_events')
    .values({ upgrade_id: upgradeId, type: e.type, wave: e.wave, application: e.application, environment: e.environment, message: e.message })
    .returningAll()
    .executeTakeFirstOrThrow();
  return eventView(r);
}

const eventView = (r: { seq: string | number; at: Date; type: string; wave: number | null; application: string | null; environment: string | null; message: string }): UpgradeEvent => ({
  seq: Number(r.seq), at: iso(r.at)!, type: r.type as UpgradeEvent['type'], wave: r.wave, application: r.application, environment: r.environment, message: r.message,
});

export async function eventsOf(db: Db, upgradeId: string, after: number, limit: number): Promise<UpgradeEvent[]> {
  const rows = await db.selectFrom('fleet_upgrade_events').selectAll().where('upgrade_id', '=', upgradeId).where('seq', '>', String(after)).orderBy('seq').limit(limit).execute();
  return rows.map(eventView);
}

// ---- views ----------------------------------------------------------------------------------------

function counts(apps: { state: UpgradeAppState }[]): Upgrade['counts'] {
  const c = { total: apps.length, pending: 0, running: 0, upgraded: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const a of apps) {
    if (a.state === 'upgrading' || a.state === 'reverting') c.running++;
    else c[a.state]++;
  }
  return c;
}

function summaryOf(u: UpgradeRow, c: Upgrade['counts']): UpgradeSummary {
  const { actor: _actor, ...options } = u.options;
  return {
    id: u.id, plan: u.plan_id, kind: u.kind, name: u.name, version: u.version, status: u.status,
    options: { ...options, healthTimeoutSeconds: options.healthTimeoutSeconds ?? null }, currentWave: u.current_wave, counts: c, error: u.error,
    createdBy: u.created_by, createdAt: iso(u.created_at)!, startedAt: iso(u.started_at), finishedAt: iso(u.finished_at), updatedAt: iso(u.updated_at)!,
  };
}

export const appView = (a: UpgradeAppRow): UpgradeApplication => ({
  application: a.ref, wave: a.wave, state: a.state, from: a.from_version, to: a.to_version, environments: a.environments, error: a.error, attempts: a.attempts,
  startedAt: iso(a.started_at), finishedAt: iso(a.finished_at), durationMs: a.duration_ms,
});

export async function upgradeView(db: Db, id: string): Promise<Upgrade> {
  const u = await upgradeRow(db, id);
  const apps = await appRows(db, id);
  const byWave = new Map<number, UpgradeAppRow[]>();
  for (const a of apps) byWave.set(a.wave, [...(byWave.get(a.wave) ?? []), a]);
  const canary = u.options.canarySize > 0;
  const waves = [...byWave.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, list]) => {
      const states = list.map((a) => a.state);
      const status: Upgrade['waves'][number]['status'] = states.some((s) => s === 'upgrading' || s === 'reverting')
        ? 'running'
        : states.every((s) => s === 'pending')
          ? 'pending'
          : states.some((s) => s === 'pending' || s === 'cancelled') && (isFinal(u.status) || states.includes('cancelled'))
            ? 'stopped'
            : states.includes('pending')
              ? 'running'
              : 'done';
      return { index, canary: canary && index === 0, status, applications: list.map((a) => a.ref) };
    });
  return { ...summaryOf(u, counts(apps)), waves, applications: apps.map(appView) };
}

export async function listUpgrades(db: Db, q: { status?: UpgradeStatus | undefined; limit: number }): Promise<UpgradeSummary[]> {
  let query = db.selectFrom('fleet_upgrades').selectAll().orderBy('created_at', 'desc').limit(q.limit);
  if (q.status) query = query.where('status', '=', q.status);
  const rows = (await query.execute()) as unknown as UpgradeRow[];
  if (!rows.length) return [];
  const states = await db
    .selectFrom('fleet_upgrade_apps')
    .select(['upgrade_id', 'state', sql<number>`count(*)::int`.as('n')])
    .where('upgrade_id', 'in', rows.map((r) => r.id))
    .groupBy(['upgrade_id', 'state'])
    .execute();
  return rows.map((r) => {
    const list: { state: UpgradeAppState }[] = [];
    for (const s of states.filter((x) => x.upgrade_id === r.id)) for (let i = 0; i < s.n; i++) list.push({ state: s.state as UpgradeAppState });
    return summaryOf(r, counts(list));
  });
}

/** The upgrades an application went through (newest first). */
export async function historyOf(db: Db, entityId: string): Promise<ApplicationUpgrade[]> {
  const rows = await db
    .selectFrom('fleet_upgrade_apps as a')
    .innerJoin('fleet_upgrades as u', 'u.id', 'a.upgrade_id')
    .select(['a.upgrade_id', 'u.kind', 'u.name', 'a.from_version', 'a.to_version', 'a.state', 'u.status', 'a.error', 'a.environments', 'u.created_by', 'a.started_at', 'a.finished_at', 'u.created_at'])
    .where('a.entity_id', '=', entityId)
    .orderBy('u.created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    upgrade: r.upgrade_id, kind: r.kind, name: r.name, from: r.from_version, to: r.to_version, state: r.state as UpgradeAppState, upgradeStatus: r.status as UpgradeStatus,
    error: r.error, environments: r.environments as EnvProgress[], createdBy: r.created_by, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at),
  }));
}

/** Entity ids of applications in active upgrades (not finished with them yet), and which upgrade. */
export async function busyApplications(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('fleet_upgrade_apps as a')
    .innerJoin('fleet_upgrades as u', 'u.id', 'a.upgrade_id')
    .select(['a.entity_id', 'u.id'])
    .where('u.status', 'in', ACTIVE)
    .where('a.state', 'in', ['pending', 'upgrading', 'reverting'])
    .execute();
  return new Map(rows.filter((r) => r.entity_id).map((r) => [r.entity_id!, r.id]));
}

/**
 * The upgrades not finished by status, and their applications by state (for the metrics, read at
 * scrape time): every status and state is reported, at 0 when none is in it.
 */
export async function progressCounts(db: Db): Promise<{ upgrades: { status: string; count: number }[]; applications: { state: string; count: number }[] }> {
  const [byStatus, byState] = await Promise.all([
    db.selectFrom('fleet_upgrades').select(['status', sql<string>`count(*)`.as('n')]).where('status', 'in', ACTIVE).groupBy('status').execute(),
    db
      .selectFrom('fleet_upgrade_apps as a')
      .innerJoin('fleet_upgrades as u', 'u.id', 'a.upgrade_id')
      .select(['a.state', sql<string>`count(*)`.as('n')])
      .where('u.status', 'in', ACTIVE)
      .groupBy('a.state')
      .execute(),
  ]);
  return {
    upgrades: ACTIVE.map((status) => ({ status, count: Number(byStatus.find((r) => r.status === status)?.n ?? 0) })),
    applications: UPGRADE_APP_STATES.map((state) => ({ state, count: Number(byState.find((r) => r.state === state)?.n ?? 0) })),
  };
}
