import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { isAdmin, type Principal } from '../access/principal.ts';
import type { AuditLog } from '../audit/log.ts';
import type { CatalogService } from '../catalog/service.ts';
import { SECRET_MASK } from '../contracts/golden.ts';
import { conflict, forbidden, notFound, PaveError, validationError } from '../errors.ts';
import { validateInputs } from '../platform/inputs.ts';
import type { PolicyGate } from '../policies/engine.ts';
import { recordActionRun } from '../metrics/instruments.ts';
import type { Db } from '../store/db.ts';
import type { ActionRunRow, ActionRunStatus } from '../store/schema.ts';
import { KeyedMutex } from '../deployments/mutex.ts';
import { actionsOf, findAction, type AvailableAction } from './catalog.ts';
import { execute, type ActionDeps } from './executors.ts';

/**
 * Golden actions: runbooks that templates and add-ons declare, run by developers within the limits the
 * platform team set (environment types, role, confirmation, timeout, parameters). Every run is
 * recorded (who, when, parameters with secrets masked, status, output, duration) and audited.
 * Invariants: two runs of one action on one environment never overlap (the second waits, queued);
 * lifecycle steps take the environment's deployment lock, so they never overlap a deployment; a run
 * always ends in succeeded, failed, cancelled or timed-out, with the reason.
 */
export interface RunRequest {
  params?: Record<string, unknown> | undefined;
  /** The environment's name, typed, when the action asks for confirmation there. */
  confirm?: string | undefined;
  requestId?: string | undefined;
}

export interface OutputLine {
  ts: string;
  line: string;
}

interface Live {
  emitter: EventEmitter;
  lines: OutputLine[];
  abort: AbortController;
  done: Promise<ActionRunRow>;
  /** Started (not queued any more). */
  running: boolean;
  lifecycle: boolean;
}

/**
 * Whether the caller holds a permission for an application's team in an environment type: the role
 * bindings of src/access/rbac.ts, injected by the composition root (this module may not import them).
 */
export type Authorizer = (principal: Principal, permission: 'action.run', scope: { team: string | null; environmentType: string; application: string; environment: string }) => Promise<boolean>;

/**
 * Keeps a run's work alive in the job queue while it goes on here (src/actions/run-job.ts wires it to
 * JobService.track): if this server dies, another marks the run failed once the job's lease ran out.
 */
export type RunTracker = (runId: string, by: string, work: () => Promise<ActionRunRow>) => Promise<ActionRunRow>;

const MAX_LINES = 2000;
const FINAL: ActionRunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed-out'];

export class ActionService {
  private readonly db: Db;
  private readonly deps: ActionDeps;
  private readonly catalog: CatalogService;
  private readonly audit: AuditLog;
  private readonly log: Logger;
  private readonly locks = new KeyedMutex();
  private readonly live = new Map<string, Live>();
  private readonly policies: PolicyGate | undefined;
  private readonly authorize: Authorizer | undefined;
  private track: RunTracker | undefined;
  constructor(o: { db: Db; deps: ActionDeps; catalog: CatalogService; audit: AuditLog; log: Logger; policies?: PolicyGate | undefined; authorize?: Authorizer | undefined }) {
    this.policies = o.policies;
    this.authorize = o.authorize;
    this.db = o.db;
    this.deps = o.deps;
    this.catalog = o.catalog;
    this.audit = o.audit;
    this.log = o.log;
  }

  /** Tracks each run as a job from now on (the composition root sets it once the job service exists). */
  trackRunsWith(track: RunTracker): void {
    this.track = track;
  }

  /** The actions of an application; with an environment, whether each may run there. */
  async list(ref: string, envName?: string): Promise<(AvailableAction & { allowedHere: boolean | null })[]> {
    const app = await this.deps.apps.managedApplication(ref);
    const env = envName ? app.environments.find((e) => e.name === envName) : undefined;
    if (envName && !env) throw notFound(`environment ${envName} of ${ref}`);
    return actionsOf(app).map((a) => ({ ...a, allowedHere: env ? a.environments.includes(env.type) : null }));
  }

  /**
   * Admin actions need an admin; developer actions need the permission action.run for the application's
   * team in the environment's type (role bindings: a member of the owning team in development, staging
   * and preview; a deployer bound for production; admins). Without an authorizer (tests of this module
   * alone): members of the owning team, and admins.
   */
  private async mayRun(principal: Principal, role: AvailableAction['role'], ownerRef: string | null, where: { application: string; environment: string; environmentType: string }): Promise<boolean> {
    if (role === 'admin') return isAdmin(principal) && !principal.scopes?.permissions && !principal.scopes?.teams;
    const team = ownerRef?.startsWith('team:') ? ownerRef : null;
    if (this.authorize) return this.authorize(principal, 'action.run', { team, ...where });
    if (isAdmin(principal)) return true;
    if (!team) return false;
    const entity = await this.catalog.get(team).catch(() => null);
    return (entity?.relations ?? []).some((r) => r.type === 'hasMember' && r.targetRef === principal.userRef);
  }

  /** A run the route kernel refused (403) before this service saw it: audited as this service audits its own refusals. */
  async refused(ref: string, envName: string, key: string, principal: Principal, reason: string, requestId?: string): Promise<void> {
    await this.audit.append({ actor: principal.userRef, action: 'action.run', target: `${ref}/${envName}/${key}`, outcome: 'denied', requestId, details: { reason } });
  }

  /** Checks and records a run, then runs it in the background; the returned row is queued or running. */
  async start(ref: string, envName: string, key: string, req: RunRequest, principal: Principal): Promise<ActionRunRow> {
    const app = await this.deps.apps.managedApplication(ref);
    const env = app.environments.find((e) => e.name === envName);
    if (!env) throw notFound(`environment ${envName} of ${ref}`);
    const list = actionsOf(app);
    const action = findAction(list, key);
    if (!action) throw notFound(`action ${key} of ${ref} (it has ${list.map((a) => a.key).join(', ') || 'none'})`);
    const deny = async (why: string, status = 403): Promise<never> => {
      await this.audit.append({ actor: principal.userRef, action: 'action.run', target: `${ref}/${envName}/${action.key}`, outcome: 'denied', requestId: req.requestId, details: { reason: why } });
      throw status === 403 ? forbidden(why) : new PaveError(status, 'confirmation-required', 'Confirmation required', why);
    };
    if (!action.environments.includes(env.type)) await deny(`${action.key} may not run in ${env.type} environments (it may in ${action.environments.join(', ')})`);
    const entity = await this.catalog.get(ref);
    if (!(await this.mayRun(principal, action.role, entity.owner ?? null, { application: ref, environment: env.name, environmentType: env.type }))) {
      await deny(action.role === 'admin'
        ? `${action.key} needs an admin`
        : `${action.key} needs the permission action.run for ${entity.owner ?? 'the owning team'} in ${env.type} environments (members of the team in development, staging and preview; deployers bound for the team in production; admins)`);
    }
    const needsConfirm = action.confirm === 'always' || (action.confirm === 'production' && env.type === 'production');
    if (needsConfirm && req.confirm !== env.name) await deny(`${action.key} in ${env.name} asks for confirmation: send confirm with the environment's name ("${env.name}")`, 428);

    const checked = validateInputs(action.parameters, req.params ?? {}, { caller: 'developer', prefix: 'params' });
    if (!checked.ok) throw validationError(`invalid parameters: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, checked.errors.map((e) => ({ path: `body.${e.path}`, message: e.message, ...(e.allowed ? { code: `allowed: ${e.allowed.join('|')}` } : {}) })));
    const params = checked.value;
    const secretParams = Object.entries(action.parameters.properties).filter(([, p]) => p.writeOnly === true || p.format === 'password').map(([k]) => k);
    const shown = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, secretParams.includes(k) ? SECRET_MASK : v]));
    // policies see the parameters as the run record shows them (secret ones masked)
    if (this.policies) {
      try {
        await this.policies.enforce({
          event: 'action.run', application: { ref, name: app.name, namespace: app.namespace, template: app.template.metadata.name, templateVersion: app.template.metadata.version },
          environment: { name: env.name, type: env.type }, subject: action.key, by: principal.userRef,
          details: { action: { id: action.id, key: action.key, kind: action.kind, source: action.source, title: action.title, params: shown } },
        });
      } catch (err) {
        if (err instanceof PaveError && err.status === 403) await this.audit.append({ actor: principal.userRef, action: 'action.run', target: `${ref}/${envName}/${action.key}`, outcome: 'denied', requestId: req.requestId, details: { reason: err.message } });
        throw err;
      }
    }

    const row = await this.db
      .insertInto('action_runs')
      .values({
        entity_id: app.entityId, environment_id: env.id, action: action.key, title: action.title, source: action.source, kind: action.kind,
        params: JSON.stringify(shown), status: 'queued', timeout_ms: action.timeoutMs, created_by: principal.userRef,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.audit.append({ actor: principal.userRef, action: 'action.run', target: `${ref}/${envName}/${action.key}`, outcome: 'started', requestId: req.requestId, details: { run: row.id, params: shown } });

    const secrets = new Set<string>(secretParams.map((k) => params[k]).filter((v): v is string => typeof v === 'string' && v.length > 0));
    const mask = (line: string) => {
      let out = line;
      for (const s of secrets) if (s.length >= 4) out = out.split(s).join(SECRET_MASK);
      return out;
    };
    const lines: OutputLine[] = [];
    const emitter = new EventEmitter();
    const abort = new AbortController();
    const output = (line: string) => {
      const l = { ts: new Date().toISOString(), line: mask(line).slice(0, 16_384) };
      lines.push(l);
      if (lines.length > MAX_LINES) lines.shift();
      emitter.emit('line', l);
    };
    // one run of an action per environment at a time; lifecycle steps also wait for deployments (their own lock)
    const lockKey = `${env.id}:${action.key}`;
    const lifecycle = action.kind === 'lifecycle';
    const audited = async (final: ActionRunRow): Promise<ActionRunRow> => {
      // audited before anyone waiting on the run hears that it ended
      await this.audit
        .append({ actor: principal.userRef, action: 'action.run', target: `${ref}/${envName}/${action.key}`, outcome: final.status, requestId: req.requestId, details: { run: row.id, ...(final.error ? { error: final.error } : {}) } })
        .catch((err: unknown) => this.log.error({ err, run: row.id }, 'audit write failed'));
      return final;
    };
    const runWork = () => this.locks.run(lockKey, async (): Promise<ActionRunRow> => {
      if (abort.signal.aborted) return audited(await this.finish(row.id, 'cancelled', { error: abort.signal.reason instanceof Error ? `${abort.signal.reason.message} before it started` : 'cancelled before it started' }, lines, null));
      const started = Date.now();
      await this.db.updateTable('action_runs').set({ status: 'running', started_at: new Date() }).where('id', '=', row.id).execute();
      entry.running = true;
      emitter.emit('status', 'running');
      // A lifecycle step is a deployment: it is not interrupted half-way (its own health timeout bounds it), so it is not raced against the timer.
      const timer = lifecycle ? null : setTimeout(() => abort.abort(new TimeoutError(action.timeoutMs)), action.timeoutMs);
      try {
        const work = execute({ action, app, env, params, by: principal.userRef, signal: abort.signal, output, secret: (v) => void secrets.add(v) }, this.deps);
        const outcome = lifecycle ? await work : await Promise.race([work, new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }))]);
        output(outcome.summary);
        return audited(await this.finish(row.id, 'succeeded', { summary: mask(outcome.summary), result: outcome.data ?? null }, lines, started));
      } catch (err) {
        const reason = abort.signal.aborted ? abort.signal.reason : err;
        if (reason instanceof TimeoutError) return audited(await this.finish(row.id, 'timed-out', { error: reason.message }, lines, started));
        if (reason instanceof CancelledError) return audited(await this.finish(row.id, 'cancelled', { error: reason.message }, lines, started));
        const message = mask(err instanceof Error ? err.message : String(err));
        if (!(err instanceof PaveError)) this.log.warn({ run: row.id, action: action.key, err: message }, 'action failed');
        output(`failed: ${message}`);
        return audited(await this.finish(row.id, 'failed', { error: message }, lines, started));
      } finally {
        if (timer) clearTimeout(timer);
      }
    });
    // tracked as a job while it runs here, when a job service is wired (a run of a server that died is failed by another)
    const done = this.track ? this.track(row.id, principal.userRef, runWork) : runWork();
    const entry: Live = { emitter, lines, abort, done, running: false, lifecycle };
    this.live.set(row.id, entry);
    void done.then(
      (final) => {
        // counted once, when the run ended (a queued run cancelled is finished twice: by cancel, then here)
        recordActionRun(final.kind, final.status);
        this.live.delete(row.id);
        emitter.emit('end', final);
      },
      (err: unknown) => this.log.error({ err, run: row.id }, 'action bookkeeping failed'),
    );
    return row;
  }

  private async finish(id: string, status: ActionRunStatus, fields: { summary?: string; result?: Record<string, unknown> | null; error?: string }, lines: OutputLine[], started: number | null): Promise<ActionRunRow> {
    return this.db
      .updateTable('action_runs')
      .set({
        status, summary: fields.summary ?? null, result: fields.result ? JSON.stringify(fields.result) : null, error: fields.error ?? null,
        output: JSON.stringify(lines.map((l) => `${l.ts} ${l.line}`)), finished_at: new Date(), duration_ms: started === null ? null : Date.now() - started,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Waits until a run ended (runs of this server); returns the row as it is. */
  async wait(id: string): Promise<ActionRunRow> {
    const live = this.live.get(id);
    if (live) return live.done;
    return this.get(id);
  }

  async get(id: string): Promise<ActionRunRow> {
    const row = await this.db.selectFrom('action_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`run ${id}`);
    return row;
  }

  async runs(ref: string, envName: string | undefined, limit = 50, before?: string): Promise<ActionRunRow[]> {
    const app = await this.deps.apps.managedApplication(ref);
    let q = this.db.selectFrom('action_runs').selectAll().where('entity_id', '=', app.entityId).orderBy('created_at', 'desc').limit(limit);
    if (before) q = q.where('created_at', '<', new Date(before));
    if (envName) {
      const env = app.environments.find((e) => e.name === envName);
      if (!env) throw notFound(`environment ${envName} of ${ref}`);
      q = q.where('environment_id', '=', env.id);
    }
    return q.execute();
  }

  async cancel(id: string, principal: Principal): Promise<ActionRunRow> {
    const row = await this.get(id);
    if (FINAL.includes(row.status)) throw conflict(`run ${id} already ended (${row.status})`);
    if (!isAdmin(principal) && row.created_by !== principal.userRef) throw forbidden('only who started a run, or an admin, may cancel it');
    const live = this.live.get(id);
    if (!live) throw conflict(`run ${id} is not running on this server`);
    if (live.running && live.lifecycle) throw conflict(`run ${id} is a lifecycle step that has started: a deployment is not interrupted half-way; roll back once it ended if you need to`);
    live.abort.abort(new CancelledError(principal.userRef));
    // a queued run ends at once (it never starts); a running one ends as soon as its work stops
    if (!live.running) return this.finish(id, 'cancelled', { error: `cancelled by ${principal.userRef} before it started` }, live.lines, null);
    return live.done;
  }

  /** The output so far; when following a run in progress, the lines still to come, until it ends or `signal` aborts. */
  async output(id: string, onLine: (l: OutputLine) => void, opts: { follow: boolean; signal?: AbortSignal | undefined }): Promise<void> {
    const live = this.live.get(id);
    if (!live) {
      const row = await this.get(id);
      for (const raw of row.output) onLine({ ts: raw.slice(0, raw.indexOf(' ')), line: raw.slice(raw.indexOf(' ') + 1) });
      return;
    }
    for (const l of live.lines) onLine(l);
    if (!opts.follow || opts.signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const end = () => {
        live.emitter.off('line', onLine);
        live.emitter.off('end', end);
        opts.signal?.removeEventListener('abort', end);
        resolve();
      };
      live.emitter.on('line', onLine);
      live.emitter.once('end', end);
      opts.signal?.addEventListener('abort', end, { once: true });
    });
  }

  /**
   * A run whose server died before it ended (found by another server, through its job): failed with
   * the reason, and audited; a run that already ended is left as it is.
   */
  async interrupted(id: string, reason: string): Promise<void> {
    const row = await this.db
      .updateTable('action_runs')
      .set({ status: 'failed', error: reason, finished_at: new Date() })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
    if (!row) return;
    recordActionRun(row.kind, 'failed');
    const where = await this.db.selectFrom('environments as e').innerJoin('entities as a', 'a.id', 'e.entity_id').select(['a.ref', 'e.name']).where('e.id', '=', row.environment_id).executeTakeFirst();
    await this.audit
      .append({ actor: row.created_by, action: 'action.run', target: `${where?.ref ?? '?'}/${where?.name ?? '?'}/${row.action}`, outcome: 'failed', details: { run: row.id, error: reason } })
      .catch((err: unknown) => this.log.error({ err, run: row.id }, 'audit write failed'));
  }

  /** Runs still going when the server stopped cannot be followed any more: they are failed, with the reason. */
  async failInterrupted(): Promise<number> {
    const res = await this.db.updateTable('action_runs').set({ status: 'failed', error: 'the server stopped during this run', finished_at: new Date() }).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`}`);
  }
}

class CancelledError extends Error {
  constructor(by: string) {
    super(`cancelled by ${by}`);
  }
}
