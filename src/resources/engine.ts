import { sql } from 'kysely';
import type { Logger } from 'pino';
import { conflict } from '../errors.ts';
import { recordProvision } from '../metrics/instruments.ts';
import type { ResourceRow } from '../store/schema.ts';
import type { PolicyCheck, PolicyGate } from '../policies/engine.ts';
import type { DriftReport, DriverLog, OperationResult, ResourceIdentity } from './drivers/driver.ts';
import { DriverError } from './drivers/driver.ts';
import { GraphError, topologicalOrder } from './graph.ts';
import type { ResourceRepository } from './repository.ts';
import { applyDigest, DefinitionResolver, matchContext, ResolveError, resolveParams } from './resolve.ts';
import { resourceUid, type ApplyResult, type DesiredResource, type EnvironmentContext, type Plan, type PlanItem, type ResourceEvent } from './types.ts';

/**
 * Converges the resources of one application in one environment to what it declares.
 *
 * Invariants: resources are provisioned in dependency order, each after the ones its params reference;
 * one apply per environment at a time (a PostgreSQL advisory lock); a resource's row is written before
 * its driver is called and after it returns, so a crash at any point leaves a row the next apply
 * resumes from (drivers are convergent); a resource whose inputs did not change is not touched; a
 * resource is forgotten only after its driver deleted it, and a failed delete stays visible.
 */
export interface EngineOptions {
  repo: ResourceRepository;
  resolver: DefinitionResolver;
  dataDir: string;
  log: Logger;
  /** Longest a single driver call may take. */
  driverTimeoutMs?: number;
  /** Policies on resource.provision, checked for every declared resource before an apply changes anything. */
  policies?: PolicyGate | undefined;
}

const errorText = (err: unknown) => (err instanceof DriverError || err instanceof ResolveError || err instanceof GraphError ? err.message : err instanceof Error ? `unexpected error: ${err.message}` : String(err));

function lockKey(environmentId: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${environmentId.replaceAll('-', '').slice(0, 16)}`));
}

function identity(env: EnvironmentContext, r: { name: string; type: string; class: string; id: string }): ResourceIdentity {
  return { uid: resourceUid(env, r.name), type: r.type, class: r.class, id: r.id, application: env.application, environment: env.environment, environmentType: env.environmentType, team: env.team };
}

/** Existing rows in reverse dependency order (dependents first), for deletion. */
function deletionOrder(rows: ResourceRow[]): ResourceRow[] {
  const names = new Set(rows.map((r) => r.name));
  try {
    return topologicalOrder(rows.map((r) => ({ ...r, dependsOn: r.depends_on.filter((d) => names.has(d)) }))).reverse();
  } catch {
    return [...rows].reverse();
  }
}

export class ResourceEngine {
  private readonly o: EngineOptions;
  constructor(opts: EngineOptions) {
    this.o = opts;
  }

  private driverLog(resource: string): DriverLog {
    const child = this.o.log.child({ resource });
    return { info: (msg, fields) => child.info(fields ?? {}, msg), warn: (msg, fields) => child.warn(fields ?? {}, msg) };
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.o.driverTimeoutMs ?? 10 * 60_000);
  }

  /** What apply would do, without doing it. */
  async plan(env: EnvironmentContext, desired: DesiredResource[]): Promise<Plan> {
    const rows = new Map((await this.o.repo.rows(env.environmentId)).map((r) => [r.name, r]));
    const plan: Plan = { order: [], items: [], errors: [] };
    let ordered: DesiredResource[];
    try {
      ordered = topologicalOrder(desired);
    } catch (err) {
      plan.errors.push(errorText(err));
      return plan;
    }
    plan.order = ordered.map((r) => r.name);
    const definitions = await this.o.resolver.currentDefinitions();
    const changing = new Set<string>();
    for (const r of ordered) {
      const m = this.o.resolver.match(definitions, matchContext(env, r));
      const def = 'error' in m ? null : m.definition;
      const row = rows.get(r.name);
      const item: PlanItem = {
        resource: r.name, type: r.type, class: r.class, action: 'noop', definition: def?.name ?? null, definitionVersion: def?.version ?? null,
        driver: 'error' in m ? null : m.driver.id, changes: [], reason: null, error: 'error' in m ? m.error : null,
      };
      if (!row) {
        item.action = 'create';
      } else if (row.type !== r.type) {
        item.action = 'replace';
        item.changes.push({ field: 'type', from: row.type, to: r.type });
      } else {
        const diff = (field: string, from: unknown, to: unknown) => {
          if (JSON.stringify(from) !== JSON.stringify(to)) item.changes.push({ field, from, to });
        };
        diff('class', row.class, r.class);
        diff('params', row.params, r.params);
        if (def) diff('definition', `${row.definition}@${row.definition_version}`, `${def.name}@${def.version}`);
        const upstream = r.dependsOn.filter((d) => changing.has(d));
        if (row.status !== 'ready') {
          item.action = 'retry';
          item.reason = `${row.status}${row.error ? `: ${row.error}` : ''}`;
        } else if (item.changes.length) {
          item.action = 'update';
        } else if (upstream.length) {
          item.action = 'update';
          item.reason = `depends on ${upstream.join(', ')}, which change`;
        }
      }
      if (item.action !== 'noop') changing.add(r.name);
      plan.items.push(item);
    }
    const denied = this.o.policies ? await this.o.policies.denial(await this.provisionChecks(env, desired)) : null;
    if (denied) plan.errors.push(denied);
    const wanted = new Set(desired.map((r) => r.name));
    for (const row of deletionOrder([...rows.values()].filter((r) => !wanted.has(r.name)))) {
      plan.items.push({ resource: row.name, type: row.type, class: row.class, action: 'delete', definition: row.definition, definitionVersion: row.definition_version, driver: row.driver, changes: [], reason: 'no longer declared', error: null });
    }
    return plan;
  }

  /** Runs `fn` holding the environment's apply lock; a second caller gets 409 instead of waiting. */
  private async exclusive<T>(env: EnvironmentContext, fn: () => Promise<T>): Promise<T> {
    return this.o.repo.db.connection().execute(async (conn) => {
      const key = lockKey(env.environmentId);
      const got = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${key}) AS ok`.execute(conn);
      if (!got.rows[0]?.ok) throw conflict(`resources of ${env.application} in ${env.environment} are being changed by another run; try again when it finishes`);
      try {
        return await fn();
      } finally {
        await sql`SELECT pg_advisory_unlock(${key})`.execute(conn);
      }
    });
  }

  /** The resource.provision checks of an apply: every declared resource, new or not, in dependency order. */
  private async provisionChecks(env: EnvironmentContext, desired: DesiredResource[]): Promise<PolicyCheck[]> {
    let ordered: DesiredResource[];
    try {
      ordered = topologicalOrder(desired);
    } catch {
      ordered = desired;
    }
    const existing = new Set((await this.o.repo.rows(env.environmentId)).map((r) => r.name));
    const application = { ref: `application:${env.namespace}/${env.application}`, name: env.application, namespace: env.namespace };
    return ordered.map((r) => ({
      event: 'resource.provision' as const, application, environment: { name: env.environment, type: env.environmentType }, subject: r.name,
      details: { resource: { name: r.name, type: r.type, class: r.class, id: r.id, origin: r.origin, params: r.params, exists: existing.has(r.name) } },
    }));
  }

  /** Provisions, updates and deletes until the environment's resources match `desired`; a policy that denies one of them refuses the whole apply (403), before anything changes. */
  async apply(env: EnvironmentContext, desired: DesiredResource[], onEvent: (e: ResourceEvent) => void = () => undefined, opts: { refresh?: boolean } = {}): Promise<ApplyResult> {
    if (this.o.policies) await this.o.policies.enforce(await this.provisionChecks(env, desired));
    return this.exclusive(env, async () => {
      const result: ApplyResult = { ok: true, events: [], failed: [] };
      const emit = (e: ResourceEvent) => {
        result.events.push(e);
        onEvent(e);
      };
      const fail = (r: { name: string; type: string }, error: string) => {
        result.ok = false;
        result.failed.push({ resource: r.name, error });
        emit({ resource: r.name, type: r.type, phase: 'failed', detail: error });
      };
      let ordered: DesiredResource[];
      try {
        ordered = topologicalOrder(desired);
      } catch (err) {
        return { ok: false, events: [], failed: [{ resource: '*', error: errorText(err) }] };
      }
      const rows = new Map((await this.o.repo.rows(env.environmentId)).map((r) => [r.name, r]));
      const definitions = await this.o.resolver.currentDefinitions();
      const outputs = new Map<string, Record<string, unknown>>();
      const broken = new Set<string>();

      for (const r of ordered) {
        const blockedBy = r.dependsOn.filter((d) => broken.has(d));
        if (blockedBy.length) {
          broken.add(r.name);
          const error = `waiting for ${blockedBy.join(', ')}, which failed`;
          await this.o.repo.waiting({ uid: resourceUid(env, r.name), environmentId: env.environmentId, name: r.name, type: r.type, class: r.class, resId: r.id, origin: r.origin, params: r.params, dependsOn: r.dependsOn }, error);
          emit({ resource: r.name, type: r.type, phase: 'skipped', detail: error });
          continue;
        }
        const started = Date.now();
        try {
          const existing = rows.get(r.name);
          if (existing && existing.type !== r.type) {
            await this.deleteRow(env, existing, emit);
            rows.delete(r.name);
          }
          const ctx = matchContext(env, r);
          const m = this.o.resolver.match(definitions, ctx);
          if ('error' in m) throw new ResolveError(m.error);
          const params = resolveParams(r, outputs);
          const inputs = await this.o.resolver.inputs(m.definition.object, m.driver, ctx, r.name);
          const digest = applyDigest([r.type, r.class, r.id, params, inputs, m.definition.name, m.definition.version]);
          const row = rows.get(r.name);
          if (row && row.status === 'ready' && row.applied_digest === digest) {
            const record = this.o.repo.open(row);
            // refresh: ask the driver whether the resource still is what it made; re-provision what drifted.
            const drift = opts.refresh
              ? await m.driver.check({ resource: identity(env, r), params, inputs, state: record.state, outputs: record.outputs, dataDir: this.o.dataDir, signal: this.signal() })
              : { status: 'in-sync' as const };
            if (drift.status === 'in-sync') {
              outputs.set(r.name, record.outputs);
              emit({ resource: r.name, type: r.type, phase: 'unchanged' });
              continue;
            }
            this.o.log.warn({ resource: r.name, drift: drift.status }, 'resource drifted; provisioning it again');
          }
          const previous = row ? this.o.repo.open(row).state : null;
          const started_ = await this.o.repo.start({
            uid: resourceUid(env, r.name), environmentId: env.environmentId, name: r.name, type: r.type, class: r.class, resId: r.id, origin: r.origin,
            params: r.params, dependsOn: r.dependsOn, definition: m.definition.name, definitionVersion: m.definition.version, driver: m.driver.id,
          });
          emit({ resource: r.name, type: r.type, phase: 'provisioning', detail: `${m.driver.id} via ${m.definition.name} ${m.definition.version}` });
          const t0 = performance.now();
          const res = await m.driver.provision({ resource: identity(env, r), params, inputs, state: previous, dataDir: this.o.dataDir, log: this.driverLog(r.name), signal: this.signal() }).catch((err: unknown) => {
            recordProvision(r.type, 'failed', (performance.now() - t0) / 1000);
            throw err;
          });
          recordProvision(r.type, 'succeeded', (performance.now() - t0) / 1000);
          await this.o.repo.succeeded(started_, res, digest);
          outputs.set(r.name, res.outputs);
          emit({ resource: r.name, type: r.type, phase: 'ready', ms: Date.now() - started });
        } catch (err) {
          broken.add(r.name);
          const error = errorText(err);
          if (!(err instanceof DriverError || err instanceof ResolveError)) this.o.log.error({ err, resource: r.name }, 'provisioning failed unexpectedly');
          const row = (await this.o.repo.rows(env.environmentId)).find((x) => x.name === r.name);
          if (row) await this.o.repo.setStatus(row.id, 'failed', error);
          else await this.o.repo.waiting({ uid: resourceUid(env, r.name), environmentId: env.environmentId, name: r.name, type: r.type, class: r.class, resId: r.id, origin: r.origin, params: r.params, dependsOn: r.dependsOn }, error);
          fail(r, error);
        }
      }

      const wanted = new Set(desired.map((r) => r.name));
      for (const row of deletionOrder([...rows.values()].filter((x) => !wanted.has(x.name)))) {
        try {
          await this.deleteRow(env, row, emit);
        } catch (err) {
          const error = `delete failed: ${errorText(err)}`;
          await this.o.repo.setStatus(row.id, 'failed', error);
          fail({ name: row.name, type: row.type }, error);
        }
      }
      return result;
    });
  }

  private async deleteRow(env: EnvironmentContext, row: ResourceRow, emit: (e: ResourceEvent) => void): Promise<void> {
    emit({ resource: row.name, type: row.type, phase: 'deleting' });
    await this.o.repo.setStatus(row.id, 'deleting', null);
    if (row.definition && row.definition_version) {
      const { definition, driver } = await this.o.resolver.stored(row.definition, row.definition_version);
      const inputs = await this.o.resolver.inputs(definition.object, driver, matchContext(env, { type: row.type, class: row.class, id: row.res_id }), row.name);
      const record = this.o.repo.open(row);
      await driver.delete({ resource: identity(env, { name: row.name, type: row.type, class: row.class, id: row.res_id }), params: row.params, inputs, state: record.state, dataDir: this.o.dataDir, log: this.driverLog(row.name), signal: this.signal() });
    }
    await this.o.repo.remove(row.id);
    emit({ resource: row.name, type: row.type, phase: 'deleted' });
  }

  /** Deletes every resource of the environment, dependents first. Failures stay visible and are retried next time. */
  destroy(env: EnvironmentContext, onEvent: (e: ResourceEvent) => void = () => undefined): Promise<ApplyResult> {
    return this.exclusive(env, async () => {
      const result: ApplyResult = { ok: true, events: [], failed: [] };
      const emit = (e: ResourceEvent) => {
        result.events.push(e);
        onEvent(e);
      };
      for (const row of deletionOrder(await this.o.repo.rows(env.environmentId))) {
        try {
          await this.deleteRow(env, row, emit);
        } catch (err) {
          const error = `delete failed: ${errorText(err)}`;
          await this.o.repo.setStatus(row.id, 'failed', error);
          result.ok = false;
          result.failed.push({ resource: row.name, error });
          emit({ resource: row.name, type: row.type, phase: 'failed', detail: error });
        }
      }
      return result;
    });
  }

  /** The environment's resources with their outputs (secret ones included; callers mask them). */
  async list(environmentId: string) {
    return (await this.o.repo.rows(environmentId)).map((row) => this.o.repo.open(row));
  }

  /** Compares each provisioned resource with what its driver finds. */
  async check(env: EnvironmentContext): Promise<{ resource: string; type: string; report: DriftReport | { status: 'error'; detail: string } }[]> {
    const out: { resource: string; type: string; report: DriftReport | { status: 'error'; detail: string } }[] = [];
    for (const row of await this.o.repo.rows(env.environmentId)) {
      if (row.status !== 'ready' || !row.definition || !row.definition_version) {
        out.push({ resource: row.name, type: row.type, report: { status: 'error', detail: `not provisioned (${row.status}${row.error ? `: ${row.error}` : ''})` } });
        continue;
      }
      try {
        const { definition, driver } = await this.o.resolver.stored(row.definition, row.definition_version);
        const inputs = await this.o.resolver.inputs(definition.object, driver, matchContext(env, { type: row.type, class: row.class, id: row.res_id }), row.name);
        const record = this.o.repo.open(row);
        const report = await driver.check({ resource: identity(env, { name: row.name, type: row.type, class: row.class, id: row.res_id }), params: row.params, inputs, state: record.state, outputs: record.outputs, dataDir: this.o.dataDir, signal: this.signal() });
        out.push({ resource: row.name, type: row.type, report });
      } catch (err) {
        out.push({ resource: row.name, type: row.type, report: { status: 'error', detail: errorText(err) } });
      }
    }
    return out;
  }

  /**
   * Runs a driver's day-2 operation (e.g. purge-cache) on one ready resource of an environment, with
   * the definition's inputs and the resource's saved state: the operation reaches that resource only.
   */
  async operate(env: EnvironmentContext, resource: string, operation: string, args: Record<string, unknown>, o: { signal: AbortSignal; output: (line: string) => void }): Promise<OperationResult> {
    const row = (await this.o.repo.rows(env.environmentId)).find((r) => r.name === resource);
    if (!row) throw conflict(`${env.application} has no resource ${resource} in ${env.environment}; apply the environment first`);
    if (row.status !== 'ready' || !row.definition || !row.definition_version) throw conflict(`resource ${resource} is not ready (${row.status}${row.error ? `: ${row.error}` : ''})`);
    const { definition, driver } = await this.o.resolver.stored(row.definition, row.definition_version);
    const op = driver.operations?.[operation];
    if (!op) throw conflict(`the ${driver.id} driver that made ${resource} offers no operation ${operation}${driver.operations ? ` (it offers ${Object.keys(driver.operations).join(', ')})` : ''}`);
    const inputs = await this.o.resolver.inputs(definition.object, driver, matchContext(env, { type: row.type, class: row.class, id: row.res_id }), row.name);
    const record = this.o.repo.open(row);
    return op.run({
      resource: identity(env, { name: row.name, type: row.type, class: row.class, id: row.res_id }), params: row.params, inputs, state: record.state, outputs: record.outputs,
      args, dataDir: this.o.dataDir, log: this.driverLog(row.name), signal: o.signal, output: o.output,
    });
  }
}
