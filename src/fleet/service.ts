import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ApplicationService } from '../applications/service.ts';
import type { AuditEntry } from '../audit/log.ts';
import type { CatalogService } from '../catalog/service.ts';
import type {
  ApplicationUpgrade,
  Exclusion,
  FleetApplication,
  FleetPattern,
  FleetPlan,
  FleetPlanApplication,
  FleetPlanCreateSchema,
  Pin,
  PinCreateSchema,
  PatternKind,
  Upgrade,
  UpgradeCreateSchema,
  UpgradeEvent,
  UpgradeStatus,
  UpgradeSummary,
} from '../contracts/fleet.ts';
import type { DeploymentService } from '../deployments/service.ts';
import { conflict, notFound, PaveError, validationError } from '../errors.ts';
import type { JobService } from '../jobs/service.ts';
import type { Job } from '../jobs/types.ts';
import { clearFleetUpgradeProbe, setFleetUpgradeProbe, type FleetUpgradeSample } from '../metrics/instruments.ts';
import type { PolicyGate } from '../policies/engine.ts';
import type { ResourceEngine } from '../resources/engine.ts';
import type { Db } from '../store/db.ts';
import { UpgradeEvents } from './events.ts';
import { loadApps, versionOf, type FleetApp } from './inventory.ts';
import { upToDate } from './next.ts';
import { pin, pinsOf, pinsOn, unpin } from './pins.ts';
import { planApplication, type PlanTarget } from './plan.ts';
import { mapPool } from './pool.ts';
import { loadPublished } from './published.ts';
import {
  activeUpgrades,
  busyApplications,
  eventsOf,
  getPlan,
  historyOf,
  insertPlan,
  insertUpgrade,
  isFinal,
  listUpgrades,
  progressCounts,
  setUpgrade,
  upgradeRow,
  upgradeView,
  type EnvProgress,
  type NewUpgradeApp,
} from './repository.ts';
import { UpgradeRunner, type RunContext, type RunEnd } from './runner.ts';
import { FLEET_UPGRADE, upgradeKey } from './upgrade-job.ts';
import { matchesSelector } from './selector.ts';
import { fleetApplications, fleetView, type ApplicationsFilter } from './view.ts';
import { orderApplications, orderEnvironments, splitWaves } from './waves.ts';

/**
 * Day-2 fleet lifecycle: the fleet view, pins, upgrade plans, and upgrades run in waves (runner.ts),
 * persisted in the store. Each upgrade runs as a job (`fleet.upgrade`, upgrade-job.ts) that one of the
 * servers claims; when that server dies, another takes the job over and goes on.
 */
/** What the fleet needs of the job queue: submit an upgrade's job, wait for one, list them. */
export type FleetJobs = Pick<JobService, 'submit' | 'wait' | 'list'>;

export interface FleetServiceOptions {
  db: Db;
  log: Logger;
  apps: ApplicationService;
  deployments: DeploymentService;
  catalog: CatalogService;
  engine: ResourceEngine;
  policies?: PolicyGate | undefined;
  audit?: ((e: AuditEntry) => Promise<unknown>) | undefined;
  /** The job queue the upgrades run in (their handler, upgrade-job.ts, is registered with it). */
  jobs: FleetJobs;
}

export interface Caller {
  user: string;
  roles: string[];
}

type PlanRequest = z.output<typeof FleetPlanCreateSchema>;
type UpgradeRequest = z.output<typeof UpgradeCreateSchema>;
type PinRequest = z.output<typeof PinCreateSchema>;

/** How many applications are planned at once (each plans its environments with the resource engine). */
const PLAN_CONCURRENCY = 6;

/** How long a pause or a cancel waits for the job it submitted (nothing ran the upgrade) to end it. */
const SETTLE_MS = 15_000;

/** The job that holds a 409 for an upgrade's key (another job of the upgrade is queued or running). */
const activeJob = (err: unknown): Job | undefined =>
  err instanceof PaveError && err.status === 409 && 'existing' in err ? ((err as { existing?: Job }).existing ?? undefined) : undefined;

export class FleetService {
  private readonly o: FleetServiceOptions;
  readonly events: UpgradeEvents;
  private readonly runner: UpgradeRunner;
  private readonly probe: () => Promise<FleetUpgradeSample>;
  constructor(o: FleetServiceOptions) {
    this.o = o;
    this.events = new UpgradeEvents(o.db);
    this.runner = new UpgradeRunner({ db: o.db, log: o.log, apps: o.apps, deployments: o.deployments, catalog: o.catalog, engine: o.engine, policies: o.policies, audit: o.audit, events: this.events });
    // the upgrades' progress, for /metrics: read from the store when scraped
    this.probe = () => progressCounts(o.db);
    setFleetUpgradeProbe(this.probe);
  }

  private get db(): Db {
    return this.o.db;
  }

  // ---- the fleet view ---------------------------------------------------------------------------

  async view(filter: { kind?: PatternKind | undefined; name?: string | undefined } = {}): Promise<FleetPattern[]> {
    const [apps, pub, pins] = await Promise.all([loadApps(this.db), loadPublished(this.db), pinsOn(this.db)]);
    return fleetView(apps, pub, pins, filter);
  }

  async applications(f: ApplicationsFilter & { limit: number }): Promise<{ items: FleetApplication[]; truncated: boolean }> {
    const [apps, pub, pins, busy] = await Promise.all([loadApps(this.db, { kind: f.kind, name: f.name }), loadPublished(this.db), pinsOn(this.db, f.kind, f.name), busyApplications(this.db)]);
    const items = fleetApplications(apps, pub, pins, busy, f);
    return { items: items.slice(0, f.limit), truncated: items.length > f.limit };
  }

  // ---- pins -------------------------------------------------------------------------------------

  private async app(ref: string): Promise<FleetApp> {
    const row = await this.db.selectFrom('entities as e').innerJoin('applications as a', 'a.entity_id', 'e.id').select('e.id').where('e.ref', '=', ref).executeTakeFirst();
    if (!row) throw notFound(`application ${ref} (made from a template)`);
    return (await loadApps(this.db, { entityIds: [row.id] }))[0]!;
  }

  async pins(ref: string): Promise<Pin[]> {
    return pinsOf(this.db, (await this.app(ref)).entityId);
  }

  async pin(ref: string, req: PinRequest, by: string): Promise<Pin> {
    const app = await this.app(ref);
    return pin(this.db, app, req.kind, req.name, versionOf(app, req.kind, req.name), req.reason, by);
  }

  async unpin(ref: string, kind: PatternKind, name: string): Promise<Pin> {
    return unpin(this.db, await this.app(ref), kind, name);
  }

  async history(ref: string): Promise<{ items: ApplicationUpgrade[]; pins: Pin[] }> {
    const app = await this.app(ref);
    return { items: await historyOf(this.db, app.entityId), pins: await pinsOf(this.db, app.entityId) };
  }

  // ---- plans ------------------------------------------------------------------------------------

  /**
   * Plans the upgrade of the selected applications to a version. `visible` narrows the plan to the
   * applications the caller may read (a developer plans for their team's applications).
   */
  async plan(req: PlanRequest, by: string, visible?: (refs: string[]) => Promise<Set<string>>): Promise<FleetPlan> {
    const pub = await loadPublished(this.db);
    const storeKind = req.kind === 'template' ? 'Template' : 'AddOn';
    const known = pub.versions(storeKind, req.name);
    if (!known.length) throw validationError(`no ${req.kind === 'template' ? 'template' : 'add-on'} ${req.name} is published`, [{ path: 'body.name', message: `unknown ${req.kind}` }]);
    const version = req.version ?? pub.latest(storeKind, req.name);
    const object = version ? (req.kind === 'template' ? pub.template(req.name, version) : pub.addon(req.name, version)) : undefined;
    if (!version || !object) throw validationError(`${req.name} has no version ${req.version ?? '(none is current)'}; published: ${known.map((k) => k.version).join(', ')}`, [{ path: 'body.version', message: 'not a published version' }]);
    const given = req.inputs ?? {};
    const declared = Object.keys(object.spec.inputs.properties ?? {});
    const unknownInputs = Object.keys(given).filter((k) => !declared.includes(k));
    if (unknownInputs.length) throw validationError(`${req.name} ${version} has no input ${unknownInputs.join(', ')}`, unknownInputs.map((k) => ({ path: `body.inputs.${k}`, message: `is not an input of ${req.name} ${version}${declared.length ? `; the inputs are ${declared.join(', ')}` : ''}` })));

    let apps = (await loadApps(this.db, { kind: req.kind, name: req.name })).filter((a) => matchesSelector(a, req.selector, req.kind, req.name));
    if (visible) {
      const ok = await visible(apps.map((a) => a.ref));
      apps = apps.filter((a) => ok.has(a.ref));
    }
    const [pins, busy] = await Promise.all([pinsOn(this.db, req.kind, req.name), busyApplications(this.db)]);
    const target: PlanTarget = { kind: req.kind, name: req.name, version, object };
    const items: FleetPlanApplication[] = [];
    const excluded: Exclusion[] = [];
    let current = 0;
    const results = await mapPool(apps, PLAN_CONCURRENCY, async (app) => {
      if (upToDate(app, req.kind, req.name, version)) return 'current' as const;
      const from = versionOf(app, req.kind, req.name) ?? '';
      const pinned = pins.get(app.entityId)?.find((p) => p.kind === req.kind && p.name === req.name);
      if (pinned) return { ok: false as const, exclusion: { application: app.ref, name: app.name, team: app.team, from, code: 'pinned' as const, reason: `pinned: ${pinned.reason}` } };
      const upgrade = busy.get(app.entityId);
      if (upgrade) return { ok: false as const, exclusion: { application: app.ref, name: app.name, team: app.team, from, code: 'upgrading' as const, reason: `in upgrade ${upgrade}, which has not finished` } };
      return planApplication({ engine: this.o.engine, policies: this.o.policies, published: pub }, app, target, given);
    });
    for (const r of results) {
      if (r === 'current') current++;
      else if (r.ok) items.push(r.item);
      else excluded.push(r.exclusion);
    }
    const id = await insertPlan(this.db, { kind: req.kind, name: req.name, version, selector: req.selector, inputs: given, applications: items, excluded, upToDate: current, createdBy: by });
    return this.getPlan(id);
  }

  async getPlan(id: string, visible?: (refs: string[]) => Promise<Set<string>>): Promise<FleetPlan> {
    const { inputs: _inputs, ...plan } = await getPlan(this.db, id);
    if (!visible) return plan;
    const ok = await visible([...plan.applications.map((a) => a.application), ...plan.excluded.map((e) => e.application)]);
    return { ...plan, applications: plan.applications.filter((a) => ok.has(a.application)), excluded: plan.excluded.filter((e) => ok.has(e.application)) };
  }

  // ---- upgrades ---------------------------------------------------------------------------------

  /** Applies a reviewed plan: the upgrade is recorded with its waves, and runs in the background. */
  async start(req: UpgradeRequest, caller: Caller): Promise<Upgrade> {
    const plan = await getPlan(this.db, req.plan);
    if (plan.upgrade) throw conflict(`plan ${plan.id} was applied already (upgrade ${plan.upgrade}); make a new plan`);
    if (!plan.applications.length) throw conflict(`plan ${plan.id} upgrades no application (${plan.excluded.length} excluded, ${plan.upToDate} up to date)`);
    const refs = plan.applications.map((a) => a.application);
    const ids = new Map((await this.db.selectFrom('entities').select(['id', 'ref']).where('ref', 'in', refs).execute()).map((r) => [r.ref, r.id]));
    const present = plan.applications.filter((a) => ids.has(a.application));
    const ordered = orderApplications(present, req.environmentOrder);
    const waves = splitWaves(ordered, req.canarySize, req.waveSize);
    const apps: NewUpgradeApp[] = waves.flatMap((w) =>
      w.items.map((a, position) => ({
        entityId: ids.get(a.application)!, ref: a.application, position, wave: w.index, from: a.from, to: a.to, instances: a.instances,
        environments: orderEnvironments(a.environments, req.environmentOrder).map((e): EnvProgress => ({ name: e.name, type: e.type, state: 'pending', deployment: null, previousDeployment: null, message: null })),
      })),
    );
    const id = await insertUpgrade(this.db, { plan: plan.id, kind: plan.kind, name: plan.name, version: plan.version, options: { ...req, actor: caller }, createdBy: caller.user, apps });
    await this.events.emit(id, { type: 'upgrade.started', wave: null, application: null, environment: null, message: `upgrading ${apps.length} application(s) to ${plan.name} ${plan.version} in ${waves.length} wave(s)${req.canarySize > 0 ? `, a canary wave of ${waves[0]?.items.length ?? 0} first` : ''}; ${req.concurrency} at a time, failure budget ${req.failureBudget}` });
    await this.submit(id, caller.user);
    return upgradeView(this.db, id);
  }

  get(id: string): Promise<Upgrade> {
    return upgradeView(this.db, id);
  }

  list(q: { status?: UpgradeStatus | undefined; limit: number }): Promise<UpgradeSummary[]> {
    return listUpgrades(this.db, q);
  }

  async pauseUpgrade(id: string, by: string): Promise<Upgrade> {
    const u = await upgradeRow(this.db, id);
    if (u.status === 'paused' || u.status === 'pausing') return this.get(id);
    if (u.status !== 'running') throw conflict(`upgrade ${id} is ${u.status}; only a running upgrade can be paused`);
    await setUpgrade(this.db, id, { status: 'pausing' }, ['running']);
    await this.events.emit(id, { type: 'upgrade.paused', wave: null, application: null, environment: null, message: `pause asked by ${by}: the applications in flight finish, no other starts` });
    // nothing runs it (here or on another server): a job ends the pause at once
    await this.settle(id, by);
    return this.get(id);
  }

  async resumeUpgrade(id: string, by: string): Promise<Upgrade> {
    const u = await upgradeRow(this.db, id);
    if (u.status === 'running') return this.get(id);
    if (u.status !== 'paused' && u.status !== 'pausing') throw conflict(`upgrade ${id} is ${u.status}; only a paused upgrade can be resumed`);
    await setUpgrade(this.db, id, { status: 'running' }, ['paused', 'pausing']);
    await this.events.emit(id, { type: 'upgrade.resumed', wave: null, application: null, environment: null, message: `resumed by ${by}` });
    await this.submit(id, by);
    return this.get(id);
  }

  async cancelUpgrade(id: string, by: string): Promise<Upgrade> {
    const u = await upgradeRow(this.db, id);
    if (u.status === 'cancelled' || u.status === 'cancelling') return this.get(id);
    if (isFinal(u.status)) throw conflict(`upgrade ${id} is ${u.status} already`);
    await setUpgrade(this.db, id, { status: 'cancelling' }, ['running', 'pausing', 'paused']);
    await this.events.emit(id, { type: 'upgrade.cancelled', wave: null, application: null, environment: null, message: `cancel asked by ${by}: the applications in flight finish, no other starts` });
    // nothing runs it (paused, or no server has it): a job ends the cancellation at once
    await this.settle(id, by);
    return this.get(id);
  }

  /**
   * Makes sure a job runs the upgrade: submits one (key `fleet.upgrade:<id>`), unless one is queued or
   * running already. A job that is ending as this is asked (it saw the upgrade paused a moment ago)
   * may not see the change: once it ended, the upgrade is looked at again, and gets a new job if it
   * still needs one (`watch: false`: not looked at again). Resolves with the job submitted, if any.
   * The job runs as the upgrade's author, whoever asked (the runner, as before).
   */
  private async submit(id: string, by: string, watch = true): Promise<Job | undefined> {
    try {
      return await this.o.jobs.submit(FLEET_UPGRADE, { upgrade: id }, { createdBy: by, key: upgradeKey(id) });
    } catch (err) {
      const existing = activeJob(err);
      if (!existing) throw err;
      if (!watch) return undefined;
      void this.o.jobs
        .wait(existing.id)
        .then(async () => {
          const u = await upgradeRow(this.db, id);
          if (u.status !== 'paused' && !isFinal(u.status)) await this.submit(id, by);
        })
        .catch((e: unknown) => this.o.log.error({ err: e, upgrade: id }, 'fleet upgrade not handed to a job'));
      return undefined;
    }
  }

  /** When no job has the upgrade, one is submitted, and waited for (a while): it ends the pause or the cancellation at once. */
  private async settle(id: string, by: string): Promise<void> {
    const job = await this.submit(id, by);
    if (job) await this.o.jobs.wait(job.id, AbortSignal.timeout(SETTLE_MS));
  }

  /** The run of an upgrade's job (upgrade-job.ts): the upgrade's loop, until it ends or pauses, or this server stops. */
  runUpgrade(id: string, ctx: RunContext): Promise<RunEnd> {
    return this.runner.run(id, ctx);
  }

  /** Events after `after` (polling). */
  async eventsAfter(id: string, after: number, limit: number): Promise<{ items: UpgradeEvent[]; status: UpgradeStatus }> {
    const u = await upgradeRow(this.db, id);
    return { items: await eventsOf(this.db, id, after, limit), status: u.status };
  }

  /** Streams events after `after` as they come, until the upgrade ends (or the signal aborts); resolves with the upgrade. */
  async follow(id: string, after: number, onEvent: (e: UpgradeEvent) => void, signal?: AbortSignal): Promise<Upgrade> {
    await upgradeRow(this.db, id);
    let last = after;
    let ended = false;
    let wake: () => void = () => undefined;
    const queue: UpgradeEvent[] = [];
    const unsubscribe = this.events.subscribe(id, (e) => {
      if (e === 'end') ended = true;
      else queue.push(e);
      wake();
    });
    const onAbort = () => wake();
    signal?.addEventListener('abort', onAbort);
    try {
      for (const e of await eventsOf(this.db, id, after, 100_000)) {
        onEvent(e);
        last = e.seq;
      }
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          if (e.seq <= last) continue;
          onEvent(e);
          last = e.seq;
        }
        if (signal?.aborted) break;
        if (ended || isFinal((await upgradeRow(this.db, id)).status)) {
          // events written by another process (or just before the end) are read from the store
          for (const e of await eventsOf(this.db, id, last, 100_000)) {
            onEvent(e);
            last = e.seq;
          }
          break;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
    return this.get(id);
  }

  // ---- the server's life ------------------------------------------------------------------------

  /**
   * At start: every upgrade not finished (running, pausing, cancelling) gets a job unless one is queued
   * or running: for an upgrade left by a server that stopped before upgrades were jobs, or whose job
   * ran out of attempts. An upgrade whose server died is otherwise taken over with its job, by any
   * server, once the job's lease runs out.
   */
  async resume(): Promise<{ upgrades: number }> {
    const active = (await activeUpgrades(this.db)).filter((u) => u.status !== 'paused');
    let submitted = 0;
    for (const u of active) {
      const job = await this.submit(u.id, u.options.actor.user, false).catch((err: unknown) => {
        this.o.log.error({ err, upgrade: u.id }, 'fleet upgrade not handed to a job');
        return undefined;
      });
      if (job) submitted++;
    }
    if (submitted) this.o.log.info({ upgrades: submitted }, 'fleet upgrades without a job were given one');
    return { upgrades: submitted };
  }

  /** Resolves when no upgrade runs in this process and no upgrade's job is queued or running (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await this.runner.idle();
      const [queued, running] = await Promise.all([this.o.jobs.list({ kind: FLEET_UPGRADE, state: 'queued', limit: 1 }), this.o.jobs.list({ kind: FLEET_UPGRADE, state: 'running', limit: 1 })]);
      if (!queued.length && !running.length) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The server stops: applications in flight finish, nothing new starts here; the upgrade's job goes
   * back to the queue, for another server (or this one's next start).
   */
  async stop(): Promise<void> {
    clearFleetUpgradeProbe(this.probe);
    await this.runner.stop();
  }
}
