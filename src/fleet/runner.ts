import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { ApplicationService } from '../applications/service.ts';
import type { AuditEntry } from '../audit/log.ts';
import type { CatalogService } from '../catalog/service.ts';
import type { DeploymentService } from '../deployments/service.ts';
import { PaveError } from '../errors.ts';
import { RetryLater } from '../jobs/types.ts';
import { recordFleetUpgradeApplication } from '../metrics/instruments.ts';
import type { AddOn, Template } from '../platform/schema.ts';
import { runAs } from '../policies/actor.ts';
import type { PolicyGate } from '../policies/engine.ts';
import type { ResourceEngine } from '../resources/engine.ts';
import type { Db } from '../store/db.ts';
import type { UpgradeEvents } from './events.ts';
import { loadApp, versionOf } from './inventory.ts';
import type { GoldenState } from './next.ts';
import { upToDate } from './next.ts';
import { writeGoldenState } from './golden.ts';
import { pinsOf } from './pins.ts';
import { planApplication } from './plan.ts';
import { mapPool } from './pool.ts';
import { loadPublished, type PublishedSet } from './published.ts';
import { appRows, cancelPending, getPlan, isFinal, setApp, setUpgrade, upgradeRow, type EnvProgress, type PreviousState, type UpgradeAppRow, type UpgradeRow } from './repository.ts';
import { orderEnvironments } from './waves.ts';

/**
 * Runs upgrades: wave after wave, at most `concurrency` applications at a time. One application's
 * upgrade is atomic as its users see it: its previous state (template version, inputs, add-ons,
 * what each environment had released) is recorded with the state `upgrading` before anything is
 * touched; then the new golden state is written, and in each environment (in the environment order)
 * the resources converge and, where something is released, the released build is deployed again
 * with the new config and workload, health-checked and released. Any failure puts the application
 * back: the previous golden state, the previous deployment released again where it was replaced,
 * the resources converged back; what was released keeps serving throughout. An upgrade runs as a
 * job (`fleet.upgrade`, upgrade-job.ts): when the server running it dies, the server that takes the
 * job over finds the application `upgrading`, puts it back the same way, and tries it again (once).
 */
export interface RunnerDeps {
  db: Db;
  log: Logger;
  apps: ApplicationService;
  deployments: DeploymentService;
  catalog: CatalogService;
  engine: ResourceEngine;
  policies: PolicyGate | undefined;
  audit: ((e: AuditEntry) => Promise<unknown>) | undefined;
  events: UpgradeEvents;
}

class StepError extends Error {
  readonly environment: string;
  constructor(environment: string, message: string) {
    super(message);
    this.environment = environment;
  }
}

const errorText = (err: unknown) => (err instanceof StepError ? `${err.environment}: ${err.message}` : err instanceof PaveError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`);
const INTERRUPTED = 'the server stopped while this application was being upgraded';
/** An application whose upgrade a stopping server interrupted is tried again this many times in all. */
const MAX_ATTEMPTS = 2;

/** How a run of an upgrade ended: `ended` (it finished, paused, or was not running), `stopped` (this server stops, or lost the upgrade's job: it goes on elsewhere). */
export type RunEnd = 'ended' | 'stopped';

/** What a run gets from the job that runs it. */
export interface RunContext {
  /** Aborted when this server no longer holds the job (its lease ran out and another server took it over) or stops. */
  signal?: AbortSignal | undefined;
  /** Each event of the upgrade, as the job's progress. */
  progress?: ((data: unknown) => void) | undefined;
}

export class UpgradeRunner {
  private readonly d: RunnerDeps;
  private readonly running = new Map<string, { done: Promise<RunEnd>; ctx: RunContext }>();
  private stopping = false;
  constructor(d: RunnerDeps) {
    this.d = d;
  }

  /** Whether this server stops (no upgrade is started or goes on here). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Runs the upgrade (as its job, `fleet.upgrade`) until it ends or pauses, or this server stops or
   * loses the job (`stopped`: the run ends after the applications in flight). Applications a stopped
   * server left in flight are put back first.
   */
  run(id: string, ctx: RunContext = {}): Promise<RunEnd> {
    if (this.running.has(id)) throw new RetryLater(`upgrade ${id} still runs on this server`);
    const done = this.locked(id, ctx).finally(() => this.running.delete(id));
    this.running.set(id, { done, ctx });
    return done;
  }

  private halted(ctx: RunContext): boolean {
    return this.stopping || Boolean(ctx.signal?.aborted);
  }

  /** Resolves when no upgrade runs in this process. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** The server stops: no new application is started; those in flight finish, or are put back by the next run if they take longer than `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async audit(u: UpgradeRow, action: string, target: string, outcome: string, details: Record<string, unknown>): Promise<void> {
    await this.d.audit?.({ actor: u.created_by, action, target, outcome, details: { upgrade: u.id, kind: u.kind, name: u.name, version: u.version, ...details } }).catch((err: unknown) => this.d.log.error({ err }, 'fleet audit event not written'));
  }

  private async emit(u: UpgradeRow, type: Parameters<UpgradeEvents['emit']>[1]['type'], message: string, extra: { wave?: number | null; application?: string | null; environment?: string | null } = {}) {
    const e = { type, message, wave: extra.wave ?? null, application: extra.application ?? null, environment: extra.environment ?? null };
    const out = await this.d.events.emit(u.id, e);
    this.running.get(u.id)?.ctx.progress?.(e);
    return out;
  }

  /**
   * Runs the upgrade holding its advisory lock (on a connection of its own, for as long as it runs):
   * the job queue runs one job per upgrade, and the lock also keeps out a server that stalled (rather
   * than died) and still runs it after its job was taken over; a dead server's lock goes with its
   * connection. Until that stalled server lets go, the job is tried again later.
   */
  private async locked(id: string, ctx: RunContext): Promise<RunEnd> {
    if (this.halted(ctx)) return 'stopped';
    return this.d.db.connection().execute(async (conn) => {
      const got = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(7400011, hashtext(${id})) AS ok`.execute(conn);
      if (!got.rows[0]?.ok) throw new RetryLater(`upgrade ${id} is still held by another server (its lock); trying again`);
      try {
        const u = await upgradeRow(this.d.db, id);
        return await runAs({ user: u.options.actor.user, roles: u.options.actor.roles }, () => this.loop(u, ctx));
      } finally {
        await sql`SELECT pg_advisory_unlock(7400011, hashtext(${id}))`.execute(conn).catch(() => undefined);
      }
    });
  }

  private async loop(first: UpgradeRow, ctx: RunContext): Promise<RunEnd> {
    const db = this.d.db;
    const id = first.id;
    // applications a stopped server left in flight: put back, then tried again (or failed)
    for (const row of await appRows(db, id, ['upgrading', 'reverting'])) await this.recover(first, row);
    const plan = await getPlan(db, first.plan_id);
    let published: PublishedSet | undefined;
    for (;;) {
      if (this.halted(ctx)) return 'stopped';
      const u = await upgradeRow(db, id);
      if (u.status === 'pausing') {
        if (await setUpgrade(db, id, { status: 'paused' }, ['pausing'])) await this.emit(u, 'upgrade.paused', 'paused: the applications in flight finished; resume to go on');
        return 'ended';
      }
      if (u.status === 'cancelling') return this.finishCancelled(u).then(() => 'ended' as const);
      if (u.status !== 'running') return 'ended';
      const pending = await appRows(db, id, ['pending']);
      if (!pending.length) return this.finish(u).then(() => 'ended' as const);
      const wave = pending[0]!.wave;
      const canary = u.options.canarySize > 0 && wave === 0;
      const items = pending.filter((a) => a.wave === wave);
      if (u.current_wave !== wave) {
        await setUpgrade(db, id, { current_wave: wave });
        await this.emit(u, 'wave.started', `${canary ? 'canary wave' : `wave ${wave}`}: ${items.length} application(s), ${Math.min(u.options.concurrency, items.length)} at a time`, { wave });
      }
      published = await loadPublished(db);
      const target = u.kind === 'template' ? published.template(u.name, u.version) : published.addon(u.name, u.version);
      if (!target) return this.stopAll(u, `${u.kind} ${u.name} ${u.version} is no longer in the store`).then(() => 'ended' as const);
      let stop: string | null = null;
      await mapPool(items, u.options.concurrency, async (row) => {
        if (stop || this.halted(ctx)) return;
        const status = (await upgradeRow(db, id)).status;
        if (status !== 'running') return;
        const outcome = await this.upgradeApp(u, row, target, plan.inputs, published!);
        recordFleetUpgradeApplication(outcome);
        if (outcome !== 'failed') return;
        const failed = (await appRows(db, id, ['failed'])).length;
        if (canary) stop ??= `${row.ref} failed in the canary wave`;
        else if (failed > u.options.failureBudget) stop ??= `${failed} application(s) failed, more than the failure budget of ${u.options.failureBudget}; the last: ${row.ref}`;
      });
      if (stop) return this.stopAll(await upgradeRow(db, id), stop).then(() => 'ended' as const);
      if (!(await appRows(db, id, ['pending'])).some((a) => a.wave === wave)) {
        const done = (await appRows(db, id)).filter((a) => a.wave === wave);
        await this.emit(u, 'wave.finished', `${canary ? 'canary wave' : `wave ${wave}`} done: ${done.filter((a) => a.state === 'upgraded').length} upgraded, ${done.filter((a) => a.state === 'failed').length} failed, ${done.filter((a) => a.state === 'skipped').length} skipped`, { wave });
      }
    }
  }

  private async finish(u: UpgradeRow): Promise<void> {
    const apps = await appRows(this.d.db, u.id);
    const n = (s: string) => apps.filter((a) => a.state === s).length;
    const status = n('failed') ? 'completed' : 'succeeded';
    await setUpgrade(this.d.db, u.id, { status, finished_at: new Date(), current_wave: null });
    const text = `${n('upgraded')} upgraded, ${n('failed')} failed and put back, ${n('skipped')} skipped`;
    await this.emit(u, 'upgrade.finished', `${status}: ${text}`);
    await this.audit(u, 'fleet.upgrade.finished', `fleet-upgrade:${u.id}`, status === 'succeeded' ? 'succeeded' : 'failed', { status, upgraded: n('upgraded'), failed: n('failed'), skipped: n('skipped') });
    this.d.events.end(u.id);
  }

  /** A failure beyond the budget (or in the canary wave): nothing more starts. */
  private async stopAll(u: UpgradeRow, reason: string): Promise<void> {
    const cancelled = await cancelPending(this.d.db, u.id, `not started: the upgrade stopped (${reason})`);
    await setUpgrade(this.d.db, u.id, { status: 'failed', error: reason, finished_at: new Date(), current_wave: null });
    await this.emit(u, 'upgrade.finished', `failed: ${reason}; ${cancelled} application(s) not started`);
    await this.audit(u, 'fleet.upgrade.finished', `fleet-upgrade:${u.id}`, 'failed', { status: 'failed', reason, notStarted: cancelled });
    this.d.events.end(u.id);
  }

  private async finishCancelled(u: UpgradeRow): Promise<void> {
    const cancelled = await cancelPending(this.d.db, u.id, 'not started: the upgrade was cancelled');
    await setUpgrade(this.d.db, u.id, { status: 'cancelled', finished_at: new Date(), current_wave: null });
    await this.emit(u, 'upgrade.cancelled', `cancelled; ${cancelled} application(s) not started`);
    await this.audit(u, 'fleet.upgrade.finished', `fleet-upgrade:${u.id}`, 'succeeded', { status: 'cancelled', notStarted: cancelled });
    this.d.events.end(u.id);
  }

  /** Whoever deploys: the upgrade's author, naming the upgrade (the deployment and release records show it). */
  private by(u: UpgradeRow, row: UpgradeAppRow): string {
    return `${u.created_by} (fleet upgrade ${u.id.slice(0, 8)}: ${u.name} ${row.from_version} → ${row.to_version})`;
  }

  private async skip(u: UpgradeRow, row: UpgradeAppRow, reason: string): Promise<'skipped'> {
    await setApp(this.d.db, u.id, row.ref, { state: 'skipped', error: reason, finished_at: new Date() });
    await this.emit(u, 'application.skipped', `${row.ref} skipped: ${reason}`, { wave: row.wave, application: row.ref });
    await this.audit(u, 'fleet.upgrade.application', row.ref, 'skipped', { from: row.from_version, to: row.to_version, reason });
    return 'skipped';
  }

  private async upgradeApp(u: UpgradeRow, row: UpgradeAppRow, target: Template | AddOn, given: Record<string, unknown>, published: PublishedSet): Promise<'upgraded' | 'failed' | 'skipped'> {
    const db = this.d.db;
    const t0 = Date.now();
    const app = row.entity_id ? await loadApp(db, row.entity_id) : undefined;
    if (!app) return this.skip(u, row, 'the application no longer exists');
    if (upToDate(app, u.kind, u.name, u.version)) return this.skip(u, row, `it is on ${u.version} already`);
    const now = versionOf(app, u.kind, u.name);
    if (now !== row.from_version) return this.skip(u, row, `it moved from ${row.from_version} to ${now ?? 'nothing'} since the plan`);
    const pin = (await pinsOf(db, app.entityId)).find((p) => p.kind === u.kind && p.name === u.name);
    if (pin) return this.skip(u, row, `pinned: ${pin.reason}`);
    // planned again at its turn: the platform, the policies or the application may have changed since the plan was reviewed
    const plan = await planApplication({ engine: this.d.engine, policies: this.d.policies, published }, app, { kind: u.kind, name: u.name, version: u.version, object: target }, given);
    if (!plan.ok) return this.skip(u, row, plan.exclusion.reason);

    const order = orderEnvironments(app.environments, u.options.environmentOrder);
    const previous: PreviousState = { templateVersion: app.templateVersion, inputs: app.inputs, addons: app.addons, released: Object.fromEntries(app.environments.map((e) => [e.name, e.released?.id ?? null])) };
    const envs: EnvProgress[] = order.map((e) => ({ name: e.name, type: e.type, state: 'pending', deployment: null, previousDeployment: e.released?.number ?? null, message: null }));
    // recorded before anything is touched: a server that stops from here on finds it and puts it back
    await setApp(db, u.id, row.ref, { state: 'upgrading', previous, environments: envs, attempts: row.attempts + 1, started_at: new Date(), finished_at: null, error: null, duration_ms: null });
    await this.emit(u, 'application.started', `${row.ref}: ${row.from_version} → ${row.to_version}${row.attempts ? ` (attempt ${row.attempts + 1})` : ''}`, { wave: row.wave, application: row.ref });
    const by = this.by(u, row);
    const save = () => setApp(db, u.id, row.ref, { environments: envs });
    const step = async (i: number, state: EnvProgress['state'], message: string) => {
      envs[i] = { ...envs[i]!, state, message };
      await save();
      await this.emit(u, 'application.step', `${row.ref} ${envs[i]!.name}: ${message}`, { wave: row.wave, application: row.ref, environment: envs[i]!.name });
    };
    let at = -1;
    try {
      await writeGoldenState(db, app.entityId, plan.state);
      for (const [i, env] of order.entries()) {
        at = i;
        await step(i, 'converging', 'converging its resources');
        const res = await this.d.apps.apply(app.ref, env.name);
        if (!res.ok) throw new StepError(env.name, `its resources did not converge: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
        if (!env.released) {
          await step(i, 'done', 'resources converged; nothing is released here, so nothing was redeployed');
          continue;
        }
        await step(i, 'deploying', `deploying build ${env.released.buildNumber} again with the new version`);
        const d = await this.d.deployments.deploy(app.ref, env.name, { build: env.released.buildId, release: true, ...(u.options.healthTimeoutSeconds ? { timeoutSeconds: u.options.healthTimeoutSeconds } : {}) }, by);
        envs[i] = { ...envs[i]!, deployment: d.number };
        if (d.status !== 'healthy' || !d.released) throw new StepError(env.name, `deployment ${d.number} ${d.status === 'failed' ? `failed its health check: ${d.error ?? 'no reason given'}` : 'was not released'}`);
        await step(i, 'done', `deployment ${d.number} is healthy and released`);
      }
      await this.syncAnnotation(app.ref, u.kind === 'template' ? `${u.name}@${u.version}` : null);
      await setApp(db, u.id, row.ref, { state: 'upgraded', environments: envs, finished_at: new Date(), duration_ms: Date.now() - t0 });
      await this.emit(u, 'application.upgraded', `${row.ref} is on ${row.to_version} (${Date.now() - t0} ms)`, { wave: row.wave, application: row.ref });
      await this.audit(u, 'fleet.upgrade.application', row.ref, 'succeeded', { from: row.from_version, to: row.to_version, environments: envs.map((e) => ({ name: e.name, deployment: e.deployment })) });
      return 'upgraded';
    } catch (err) {
      const reason = errorText(err);
      if (!(err instanceof StepError || err instanceof PaveError)) this.d.log.error({ err, application: row.ref, upgrade: u.id }, 'fleet upgrade of an application failed unexpectedly');
      if (at >= 0) envs[at] = { ...envs[at]!, state: 'failed', message: reason };
      await this.revert(u, row, app.entityId, previous, envs, reason, { retry: false, t0 });
      return 'failed';
    }
  }

  /**
   * Puts an application back: its previous golden state, the deployment it had released where
   * another was released since, its resources converged back. Never throws; what could not be
   * put back is reported in the application's error.
   */
  private async revert(u: UpgradeRow, row: UpgradeAppRow, entityId: string, previous: PreviousState, envs: EnvProgress[], reason: string, o: { retry: boolean; t0: number }): Promise<void> {
    const db = this.d.db;
    await setApp(db, u.id, row.ref, { state: 'reverting', environments: envs, error: reason });
    await this.emit(u, 'application.step', `${row.ref}: ${reason}; putting it back on ${row.from_version}`, { wave: row.wave, application: row.ref });
    const problems: string[] = [];
    const state: GoldenState = { templateVersion: previous.templateVersion, inputs: previous.inputs, addons: previous.addons };
    try {
      await writeGoldenState(db, entityId, state);
    } catch (err) {
      problems.push(`the previous version could not be written back: ${errorText(err)}`);
    }
    const app = await loadApp(db, entityId).catch(() => undefined);
    const by = this.by(u, row);
    for (const env of [...orderEnvironments(app?.environments ?? [], u.options.environmentOrder)].reverse()) {
      const i = envs.findIndex((e) => e.name === env.name);
      const wanted = previous.released[env.name] ?? null;
      try {
        if (wanted && env.released?.id !== wanted) {
          const r = await this.d.deployments.rollback(row.ref, env.name, wanted, by);
          if (i >= 0) envs[i] = { ...envs[i]!, state: 'reverted', message: `deployment ${r.deployment.number} released again` };
        }
      } catch (err) {
        problems.push(`${env.name}: the previous deployment could not be released again: ${errorText(err)}`);
      }
      try {
        const res = await this.d.apps.apply(row.ref, env.name);
        if (!res.ok) problems.push(`${env.name}: resources: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
        else if (i >= 0 && (envs[i]!.state === 'converging' || envs[i]!.state === 'deploying' || envs[i]!.state === 'done')) envs[i] = { ...envs[i]!, state: 'reverted', message: 'put back' };
      } catch (err) {
        problems.push(`${env.name}: resources: ${errorText(err)}`);
      }
    }
    await this.syncAnnotation(row.ref, u.kind === 'template' ? `${u.name}@${previous.templateVersion}` : null);
    const error = problems.length ? `${reason}; putting it back: ${problems.join('; ')}` : reason;
    const retry = o.retry && !problems.length;
    await setApp(db, u.id, row.ref, { state: retry ? 'pending' : 'failed', environments: retry ? envs.map((e) => ({ ...e, state: 'pending', deployment: null })) : envs, error, finished_at: retry ? null : new Date(), duration_ms: retry ? null : Date.now() - o.t0 });
    if (retry) {
      await this.emit(u, 'application.reverted', `${row.ref} was put back on ${row.from_version} (${reason}); it is tried again`, { wave: row.wave, application: row.ref });
      return;
    }
    await this.emit(u, 'application.failed', `${row.ref} failed: ${reason}; it ${problems.length ? 'could not be fully put back' : `is back on ${row.from_version}, and what was released still serves`}`, { wave: row.wave, application: row.ref });
    await this.audit(u, 'fleet.upgrade.application', row.ref, 'failed', { from: row.from_version, to: row.to_version, reason, revertProblems: problems });
  }

  /** An application a stopped server left in flight. */
  private async recover(u: UpgradeRow, row: UpgradeAppRow): Promise<void> {
    await this.emit(u, 'upgrade.interrupted', `${row.ref} was in flight when the server stopped; putting it back`, { wave: row.wave, application: row.ref });
    if (!row.previous || !row.entity_id) {
      await setApp(this.d.db, u.id, row.ref, { state: row.entity_id ? 'pending' : 'skipped', error: row.entity_id ? null : 'the application no longer exists' });
      if (!row.entity_id) recordFleetUpgradeApplication('skipped');
      return;
    }
    const retry = row.attempts < MAX_ATTEMPTS;
    await this.revert(u, row, row.entity_id, row.previous, row.environments, INTERRUPTED, { retry, t0: row.started_at ? new Date(row.started_at).getTime() : Date.now() });
    if ((await appRows(this.d.db, u.id, ['failed'])).some((a) => a.ref === row.ref)) recordFleetUpgradeApplication('failed');
  }

  /** The catalog's `pave.dev/template` annotation follows the template version (best effort: it is informative). */
  private async syncAnnotation(ref: string, value: string | null): Promise<void> {
    if (!value) return;
    try {
      const e = await this.d.catalog.get(ref);
      const annotations = e.annotations;
      if (annotations['pave.dev/template'] === value) return;
      await this.d.catalog.update('application', ref, e.version, { annotations: { ...annotations, 'pave.dev/template': value } });
    } catch (err) {
      this.d.log.warn({ err, application: ref }, 'the template annotation was not updated');
    }
  }
}

export { isFinal };
