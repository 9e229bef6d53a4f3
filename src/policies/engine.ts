import type { Logger } from 'pino';
import { POLICY_DENIED, type PolicyDecision, type PolicyEvent, type PolicyTestRequestSchema, type PolicyTestResult, type PolicyView } from '../contracts/policies.ts';
import type { FieldError } from '../contracts/common.ts';
import { notFound, PaveError } from '../errors.ts';
import type { z } from 'zod';
import { resolveProfile } from '../platform/profiles.ts';
import type { Policy } from '../platform/schema.ts';
import { listCurrent } from '../platform/store.ts';
import type { Db } from '../store/db.ts';
import { currentActor, type Actor } from './actor.ts';
import { bindings, celErrorMessage, celTypeName, compileExpression, compileMessage, fromCel, renderMessage, toCel, type Bindings, type CompiledExpression, type MessagePart } from './cel.ts';

/**
 * Policies in force: the current Policy objects of the platform, compiled once per sync, evaluated on
 * every guarded request. The services call `enforce` before they write anything, so a denied request
 * leaves nothing behind; the API's dry run calls `decide`, which says for every policy whether it
 * applies, what it gave and why.
 *
 * What an expression sees is built only as far as the applicable policies read it: the team's counts
 * and the environment's region cost a query each, and are not computed for policies that do not use
 * them (nor at all when no policy listens to the event).
 */

/** What the services know of the application a request is about; missing fields are read from the store when a policy needs them. */
export interface ApplicationFacts {
  ref: string;
  name?: string | undefined;
  namespace?: string | undefined;
  /** The owner's ref (team:default/payments). */
  owner?: string | null | undefined;
  template?: string | undefined;
  templateVersion?: string | undefined;
  inputs?: Record<string, unknown> | undefined;
}

export interface PolicyCheck {
  event: PolicyEvent;
  application: ApplicationFacts;
  environment: { name: string; type: string } | null;
  /** The event's own part of the request: `addon`, `resource`, `deployment`, `release`, `action`, `environments`, `addons`. */
  details?: Record<string, unknown> | undefined;
  /** What in the request this is about (an add-on instance, a resource), for decisions and the audit log. */
  subject?: string | undefined;
  /** Who asks when no API request is being served (e.g. the user a deployment is made for). */
  by?: string | undefined;
}

/** What the services depend on (a type): refuse the request, before writing anything, when a policy denies it. */
export interface PolicyGate {
  enforce(checks: PolicyCheck | readonly PolicyCheck[]): Promise<void>;
  /** The reason enforce would give, or null; nothing is refused or audited (for plans and previews). */
  denial(checks: readonly PolicyCheck[]): Promise<string | null>;
}

export interface CompiledPolicy {
  name: string;
  revision: string;
  source: string;
  createdAt: string;
  object: Policy;
  events: ReadonlySet<PolicyEvent>;
  environmentTypes: ReadonlySet<string> | null;
  rule: CompiledExpression;
  message: MessagePart[];
  params: Bindings['params'];
  /** Every path its expressions read. */
  refs: string[];
}

export interface DecideOptions {
  now?: Date | undefined;
  /** Counts to assume instead of the team's real ones (dry runs). */
  team?: { applications?: number | undefined; resources?: Record<string, number> | undefined } | undefined;
  /** Request fields that win over what the check and the store say (dry runs). */
  overrides?: Record<string, unknown> | undefined;
  /** The actor to assume (dry runs); default: the caller, or the check's `by`. */
  actor?: Actor | undefined;
  /** Include policies that do not apply, and keep the contexts (dry runs). */
  explain?: boolean | undefined;
}

export interface Decided {
  decisions: PolicyDecision[];
  contexts: Record<string, unknown>[];
}

export interface AuditSink {
  (e: { actor: string; action: string; target: string; outcome: string; requestId?: string | undefined; details?: Record<string, unknown> }): Promise<unknown>;
}

type Aggregates = { applications: number | null; resources: Map<string, number> | null };

/** A resource an environment's graph declares, as `request.resource` shows it. */
export interface ResourceFacts {
  name: string;
  type: string;
  class: string;
  id: string;
  origin: string;
  params: Record<string, unknown>;
  exists: boolean;
}

export interface PolicyEngineOptions {
  db: Db;
  log: Logger;
  /** Where denials are recorded (the audit log): action policy.denied, with the policies and their reasons. */
  audit?: AuditSink | undefined;
  /** The resources an application declares in an environment (for dry runs of resource.provision). */
  desiredResources?: ((ref: string, environment: string) => Promise<ResourceFacts[]>) | undefined;
  /** Policies to use instead of the store's (unit tests). */
  fixed?: CompiledPolicy[] | undefined;
}

export class PolicyEngine implements PolicyGate {
  private readonly db: Db;
  private readonly log: Logger;
  private readonly audit: AuditSink | undefined;
  private readonly desiredResources: PolicyEngineOptions['desiredResources'];
  private readonly fixed: CompiledPolicy[] | undefined;
  private loading: Promise<CompiledPolicy[]> | undefined;
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(o: PolicyEngineOptions) {
    this.db = o.db;
    this.log = o.log;
    this.audit = o.audit;
    this.desiredResources = o.desiredResources;
    this.fixed = o.fixed;
  }

  // ---- the policies in force ---------------------------------------------------------------------

  /** Reads and compiles the current policies again (after every platform sync). */
  async reload(): Promise<void> {
    const next = this.load();
    this.loading = next;
    await next.catch(() => undefined);
  }

  /** The policies in force, compiled; read from the store on first use and after each sync. */
  policies(): Promise<CompiledPolicy[]> {
    if (!this.loading) {
      const p = this.load();
      p.catch(() => {
        if (this.loading === p) this.loading = undefined;
      });
      this.loading = p;
    }
    return this.loading;
  }

  private async load(): Promise<CompiledPolicy[]> {
    if (this.fixed) return this.fixed;
    const rows = await listCurrent(this.db, 'Policy');
    const out: CompiledPolicy[] = [];
    const keep = new Set<string>();
    for (const row of rows) {
      const key = `${row.name}@${row.version}`;
      keep.add(key);
      let p = this.compiled.get(key);
      if (!p) {
        const made = compilePolicy(row.object, { revision: row.version, source: row.source, createdAt: row.createdAt });
        if ('errors' in made) {
          // validated when it was loaded; only a policy published by another version of Pave can get here
          this.log.error({ policy: row.name, revision: row.version, errors: made.errors }, 'a stored policy does not compile; it is not in force');
          continue;
        }
        p = made;
        this.compiled.set(key, p);
      }
      out.push(p);
    }
    for (const key of this.compiled.keys()) if (!keep.has(key)) this.compiled.delete(key);
    return out;
  }

  async list(): Promise<PolicyView[]> {
    return (await this.policies()).map(viewOf);
  }

  // ---- enforcing ----------------------------------------------------------------------------------

  /** Throws a 403 (problem type policy-denied) naming every policy that denies one of the checks, and audits it. */
  async enforce(checks: PolicyCheck | readonly PolicyCheck[]): Promise<void> {
    const list = Array.isArray(checks) ? (checks as readonly PolicyCheck[]) : [checks as PolicyCheck];
    const verdict = await this.verdict(list);
    if (!verdict) return;
    const first = list[0]!;
    const actor = actorOf(first);
    const about = verdict.reasons[0]!;
    if (this.audit) {
      await this.audit({
        actor: actor.user, action: 'policy.denied', target: [first.application.ref, about.environment, about.subject].filter(Boolean).join('/'), outcome: 'denied', requestId: actor.requestId,
        details: { event: first.event, policies: verdict.reasons.map((d) => ({ name: d.policy, revision: d.revision, message: d.message, environment: d.environment, subject: d.subject })) },
      }).catch((err: unknown) => this.log.error({ err }, 'could not audit a policy denial'));
    }
    throw new PaveError(403, POLICY_DENIED, 'Denied by policy', verdict.detail, verdict.errors);
  }

  /** What enforce would refuse, without refusing or auditing it (plans): the reason, or null. */
  async denial(checks: readonly PolicyCheck[]): Promise<string | null> {
    return (await this.verdict(checks))?.detail ?? null;
  }

  private async verdict(list: readonly PolicyCheck[]): Promise<{ detail: string; errors: FieldError[]; reasons: PolicyDecision[] } | null> {
    const policies = await this.policies();
    if (!list.some((c) => policies.some((p) => applies(p, c) === null))) return null;
    const { decisions } = await this.decide(list);
    const seen = new Set<string>();
    const reasons = decisions.filter((d) => {
      if (!d.denied) return false;
      const key = `${d.policy}\u0000${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (!reasons.length) return null;
    const names = [...new Set(reasons.map((d) => d.policy))];
    const detail =
      reasons.length === 1
        ? `denied by policy ${reasons[0]!.policy}: ${reasons[0]!.message}`
        : `denied by policies ${names.join(', ')}: ${reasons.map((d) => `${d.policy}: ${d.message}`).join('; ')}`;
    return { detail, reasons, errors: reasons.map((d) => ({ path: `policies.${d.policy}`, message: d.message ?? '', code: POLICY_DENIED })) };
  }

  /**
   * Every applicable policy's decision on each check (with `explain`, every policy's, applicable or
   * not, and the contexts the expressions saw). Checks are evaluated in order; a resource the batch
   * provisions counts in team.resources for the checks after it.
   */
  async decide(checks: readonly PolicyCheck[], opts: DecideOptions = {}): Promise<Decided> {
    const policies = await this.policies();
    const now = opts.now ?? new Date();
    const decisions: PolicyDecision[] = [];
    const contexts: Record<string, unknown>[] = [];
    const apps = new Map<string, Promise<Record<string, unknown> | null>>();
    const teams = new Map<string, Aggregates>();
    const regions = new Map<string, Promise<string>>();
    for (const check of checks) {
      const verdicts = policies.map((p) => ({ p, skip: applies(p, check) }));
      const applicable = verdicts.filter((v) => v.skip === null).map((v) => v.p);
      const environment = check.environment?.name ?? null;
      if (!applicable.length && !opts.explain) continue;
      const refs = new Set(applicable.flatMap((p) => p.refs));
      const ctx = await this.context(check, opts, refs, now, { apps, teams, regions });
      if (opts.explain) contexts.push({ event: check.event, environment, subject: check.subject ?? null, request: ctx.request, team: ctx.team, now: now.toISOString() });
      const b = bindings({ request: ctx.request, team: ctx.team, now, params: {} });
      for (const { p, skip } of verdicts) {
        if (skip === null) decisions.push(evaluate(p, { ...b, params: p.params }, check, environment));
        else if (opts.explain) decisions.push({ policy: p.name, revision: p.revision, event: check.event, environment, subject: check.subject ?? null, applies: false, denied: false, why: skip, message: null, error: null });
      }
      // what this check provisions counts for the next ones
      if (check.event === 'resource.provision' && ctx.aggregates?.resources) {
        const r = ctx.request.resource as { type: string; exists: boolean };
        if (!r.exists) ctx.aggregates.resources.set(r.type, (ctx.aggregates.resources.get(r.type) ?? 0) + 1);
      }
    }
    return { decisions, contexts };
  }

  // ---- dry runs ----------------------------------------------------------------------------------

  /**
   * Evaluates a request against every policy without doing it (POST /api/v1/policies/test): each
   * policy's decision and why, for each environment (and resource, add-on) the request concerns.
   */
  async dryRun(body: z.output<typeof PolicyTestRequestSchema>, caller: Actor): Promise<PolicyTestResult> {
    const given = body.request ?? {};
    const givenApp = isRecord(given.application) ? given.application : {};
    const namespace = typeof givenApp.namespace === 'string' ? givenApp.namespace : body.namespace;
    const name = body.application ?? (typeof givenApp.name === 'string' ? givenApp.name : '');
    const ref = typeof givenApp.ref === 'string' ? givenApp.ref : `application:${namespace}/${name}`.toLowerCase();
    let environments: { name: string; type: string }[] = [];
    if (body.application) {
      const found = await this.db.selectFrom('entities').select('id').where('ref', '=', ref).where('kind', '=', 'application').executeTakeFirst();
      if (!found) throw notFound(`application ${ref}`);
      environments = await this.db.selectFrom('environments').select(['name', 'type']).where('entity_id', '=', found.id).orderBy('created_at').execute();
    }
    const givenEnv = isRecord(given.environment) ? given.environment : null;
    const asEnv = (e: Record<string, unknown>) => ({ name: String(e.name ?? ''), type: String(e.type ?? '') });
    let targets: ({ name: string; type: string } | null)[];
    if (body.environment) {
      const e = environments.find((x) => x.name === body.environment);
      if (!e && !givenEnv) throw notFound(`environment ${body.environment} of ${ref}${environments.length ? ` (it has ${environments.map((x) => x.name).join(', ')})` : ''}`);
      targets = [e ?? { name: body.environment, type: String(givenEnv?.type ?? '') }];
    } else if (givenEnv) targets = [asEnv(givenEnv)];
    else if (body.event === 'application.create' && Array.isArray(given.environments) && given.environments.length) targets = given.environments.filter(isRecord).map(asEnv);
    else if (environments.length) targets = environments;
    else targets = [null];

    const checks: PolicyCheck[] = [];
    for (const env of targets) {
      const check = { event: body.event, application: { ref }, environment: env };
      if (body.event === 'resource.provision' && !isRecord(given.resource) && body.application && env && this.desiredResources) {
        const resources = await this.desiredResources(ref, env.name);
        for (const r of resources) checks.push({ ...check, details: { resource: r }, subject: r.name });
        if (resources.length) continue;
      }
      if (body.event === 'application.create') checks.push({ ...check, details: { environments: targets.filter((t) => t !== null) } });
      else {
        const part = { 'addon.attach': 'addon', 'resource.provision': 'resource' }[body.event as string];
        const subject = part && isRecord(given[part]) ? String((given[part] as Record<string, unknown>)[part === 'addon' ? 'instance' : 'name'] ?? '') || undefined : undefined;
        checks.push({ ...check, subject });
      }
    }
    const overrides = { ...given };
    if (targets.length > 1 || (targets[0] && !givenEnv)) delete overrides.environment;
    const { decisions, contexts } = await this.decide(checks, { now: body.now ? new Date(body.now) : undefined, team: body.team, overrides, actor: caller, explain: true });
    return { event: body.event, allowed: !decisions.some((d) => d.denied), decisions, contexts };
  }

  // ---- the context of one check -------------------------------------------------------------------

  private async context(
    check: PolicyCheck,
    opts: DecideOptions,
    refs: ReadonlySet<string>,
    now: Date,
    cache: { apps: Map<string, Promise<Record<string, unknown> | null>>; teams: Map<string, Aggregates>; regions: Map<string, Promise<string>> },
  ): Promise<{ request: Record<string, unknown> & { resource?: unknown }; team: Record<string, unknown>; aggregates: Aggregates | null }> {
    const all = Boolean(opts.explain);
    const reads = (path: string) => all || [...refs].some((r) => r === path || path.startsWith(`${r}.`) || r.startsWith(`${path}.`));
    const overrides = opts.overrides ?? {};
    const given = check.application;
    let app: ApplicationFacts = { ...given };
    const missing = ['name', 'namespace', 'owner', 'template', 'templateVersion', 'inputs'].filter((k) => (app as unknown as Record<string, unknown>)[k] === undefined);
    if (missing.length && (missing.some((k) => reads(`request.application.${k}`)) || reads('team') || reads('request.environment.region') || reads('request.actor.roles'))) {
      let stored = cache.apps.get(given.ref);
      if (!stored) {
        stored = this.storedApplication(given.ref);
        cache.apps.set(given.ref, stored);
      }
      const s = await stored;
      if (s) app = { ...(s as unknown as ApplicationFacts), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
    }
    const appOverride = isRecord(overrides.application) ? overrides.application : {};
    const [ns, name] = splitRef(given.ref);
    const owner = (typeof appOverride.owner === 'string' ? appOverride.owner : app.owner) ?? (typeof appOverride.team === 'string' && appOverride.team ? `team:${app.namespace ?? ns}/${appOverride.team}` : null);
    const team = typeof appOverride.team === 'string' ? appOverride.team : teamOf(owner);
    const application = {
      name: app.name ?? name, namespace: app.namespace ?? ns, ref: given.ref, owner: owner ?? '', team: team ?? '',
      template: app.template ?? '', templateVersion: app.templateVersion ?? '', inputs: app.inputs ?? {}, ...appOverride,
    };

    const env = check.environment;
    const envOverride = isRecord(overrides.environment) ? overrides.environment : {};
    let region = '';
    const envType = typeof envOverride.type === 'string' ? envOverride.type : env?.type;
    if (envType && reads('request.environment.region') && typeof envOverride.region !== 'string') {
      const key = `${team ?? '*'}\u0000${envType}`;
      let r = cache.regions.get(key);
      if (!r) {
        r = resolveProfile(this.db, team ?? '*').then((p) => p.environments[envType]?.region ?? '');
        cache.regions.set(key, r);
      }
      region = await r;
    }
    const environment = { name: env?.name ?? '', type: env?.type ?? '', region, ...envOverride };

    // the actor's roles here: their account's, and those of their bindings and memberships that cover this team and environment type
    const actor = opts.actor ?? actorOf(check);
    const roles = new Set(actor.roles);
    if (actor.grants && reads('request.actor.roles')) {
      for (const g of await actor.grants()) {
        const teamOk = g.team === '*' || (owner !== null && g.team === owner);
        const envOk = g.environmentTypes === '*' || !envType || g.environmentTypes.includes(envType);
        if (teamOk && envOk) roles.add(g.role);
      }
    }
    const request: Record<string, unknown> = {
      event: check.event,
      actor: { user: actor.user, roles: [...roles].sort(), ...(isRecord(overrides.actor) ? overrides.actor : {}) },
      application,
      environment,
      ...eventPart(check.event, check.details ?? {}, overrides),
    };

    // the team's counts, when read
    let aggregates: Aggregates | null = null;
    const teamRef = owner && owner.startsWith('team:') ? owner : null;
    const teamView: Record<string, unknown> = { name: team ?? '', applications: 0, resources: {} };
    if (reads('team.applications') || reads('team.resources')) {
      const key = teamRef ?? '';
      aggregates = cache.teams.get(key) ?? { applications: null, resources: null };
      cache.teams.set(key, aggregates);
      // given counts (dry runs) stand in for the store's
      if (opts.team?.applications !== undefined) aggregates.applications ??= opts.team.applications;
      if (opts.team?.resources !== undefined) aggregates.resources ??= new Map(Object.entries(opts.team.resources));
      if (reads('team.applications') && aggregates.applications === null) aggregates.applications = teamRef ? await this.countApplications(teamRef) : 0;
      if (reads('team.resources') && aggregates.resources === null) aggregates.resources = teamRef ? await this.countResources(teamRef) : new Map();
      const resources = new Map(aggregates.resources ?? []);
      const r = request.resource as { type?: unknown } | undefined;
      if (typeof r?.type === 'string' && !resources.has(r.type)) resources.set(r.type, 0);
      teamView.applications = aggregates.applications ?? 0;
      teamView.resources = Object.fromEntries(resources);
    } else if (opts.team) {
      teamView.applications = opts.team.applications ?? 0;
      teamView.resources = opts.team.resources ?? {};
    }
    return { request, team: teamView, aggregates };
  }

  private async storedApplication(ref: string): Promise<Record<string, unknown> | null> {
    const row = await this.db
      .selectFrom('entities as e')
      .leftJoin('applications as p', 'p.entity_id', 'e.id')
      .select(['e.name', 'e.namespace', 'e.owner_ref', 'p.template', 'p.template_version', 'p.inputs'])
      .where('e.ref', '=', ref)
      .executeTakeFirst();
    if (!row) return null;
    return { name: row.name, namespace: row.namespace, owner: row.owner_ref, template: row.template ?? '', templateVersion: row.template_version ?? '', inputs: row.inputs ?? {} };
  }

  private async countApplications(teamRef: string): Promise<number> {
    const r = await this.db.selectFrom('entities').select((eb) => eb.fn.countAll<string>().as('n')).where('kind', '=', 'application').where('owner_ref', '=', teamRef).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async countResources(teamRef: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('resources as r')
      .innerJoin('environments as e', 'e.id', 'r.environment_id')
      .innerJoin('entities as a', 'a.id', 'e.entity_id')
      .select(['r.type'])
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('a.owner_ref', '=', teamRef)
      .groupBy('r.type')
      .execute();
    return new Map(rows.map((r) => [r.type, Number(r.n)]));
  }
}

// ---- compiling and evaluating ----------------------------------------------------------------------

/** Compiles a policy (already validated by the loader, which compiled it too and reported its errors). */
export function compilePolicy(object: Policy, meta: { revision: string; source: string; createdAt: string }): CompiledPolicy | { errors: string[] } {
  const spec = object.spec;
  const scope = { events: [...new Set(spec.on)], params: spec.params ?? {} };
  const rule = compileExpression(spec.deny, scope);
  const message = compileMessage(spec.message, scope);
  if (!rule.ok || !message.ok) return { errors: [...(rule.ok ? [] : rule.errors.map((e) => `deny: ${e}`)), ...(message.ok ? [] : message.errors.map((e) => `message: ${e}`))] };
  return {
    name: object.metadata.name, revision: meta.revision, source: meta.source, createdAt: meta.createdAt, object,
    events: new Set(spec.on), environmentTypes: spec.environmentTypes ? new Set(spec.environmentTypes) : null,
    rule: rule.expr, message: message.parts, params: toCel(spec.params ?? {}),
    refs: [...new Set([...rule.expr.refs, ...message.parts.flatMap((p) => (typeof p === 'string' ? [] : p.refs))])],
  };
}

/** null when the policy applies to the check, else why not. */
function applies(p: CompiledPolicy, check: PolicyCheck): string | null {
  if (!p.events.has(check.event)) return `listens to ${[...p.events].join(', ')}, not ${check.event}`;
  if (p.environmentTypes && !p.environmentTypes.has(check.environment?.type ?? '')) {
    return `only for ${[...p.environmentTypes].join(', ')} environments${check.environment ? `, not ${check.environment.type} (${check.environment.name})` : ''}`;
  }
  return null;
}

function evaluate(p: CompiledPolicy, b: Bindings, check: PolicyCheck, environment: string | null): PolicyDecision {
  const base = { policy: p.name, revision: p.revision, event: check.event, environment, subject: check.subject ?? null, applies: true };
  const v = p.rule.run(b);
  const failure = celErrorMessage(v) ?? (typeof v === 'boolean' ? null : `deny gave ${celTypeName(v)} ${JSON.stringify(fromCel(v))}, not true or false`);
  if (failure !== null) {
    const denied = p.object.spec.onError === 'deny';
    return {
      ...base, denied, error: failure,
      why: `evaluation failed (onError: ${p.object.spec.onError})`,
      message: denied ? `policy ${p.name} could not be evaluated (${failure}), and refuses what it cannot judge` : null,
    };
  }
  if (!v) return { ...base, denied: false, why: 'deny is false', message: null, error: null };
  return { ...base, denied: true, why: 'deny is true', message: renderMessage(p.message, b), error: null };
}

function eventPart(event: PolicyEvent, details: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merge = (key: string, defaults: Record<string, unknown>) => ({ [key]: { ...defaults, ...(isRecord(details[key]) ? details[key] : {}), ...(isRecord(overrides[key]) ? overrides[key] : {}) } });
  const list = (key: string) => ({ [key]: Array.isArray(overrides[key]) ? overrides[key] : Array.isArray(details[key]) ? details[key] : [] });
  switch (event) {
    case 'application.create':
      return { ...list('environments'), ...list('addons') };
    case 'addon.attach':
      return merge('addon', { name: '', instance: '', version: '', inputs: {} });
    case 'resource.provision':
      return merge('resource', { name: '', type: '', class: 'default', id: '', origin: '', params: {}, exists: false });
    case 'deployment.create':
      return merge('deployment', { build: 0, replicas: 1, release: false, promotedFrom: '', runtime: 'local' });
    case 'release':
      return merge('release', { kind: 'release', deployment: 0, build: 0, runtime: 'local' });
    case 'action.run':
      return merge('action', { id: '', key: '', kind: '', source: '', title: '', params: {} });
  }
}

function actorOf(check: PolicyCheck): Actor {
  return currentActor() ?? { user: check.by ?? 'system', roles: [] };
}

function viewOf(p: CompiledPolicy): PolicyView {
  const o = p.object;
  return {
    name: p.name, revision: p.revision, title: o.metadata.title ?? null, description: o.metadata.description ?? null, on: o.spec.on,
    environmentTypes: o.spec.environmentTypes ?? null, deny: o.spec.deny, message: o.spec.message, params: o.spec.params ?? {}, onError: o.spec.onError,
    source: p.source, createdAt: p.createdAt,
  };
}

/** `team:default/payments` → payments; an owner that is not a team (a user) has no team. */
export function teamOf(owner: string | null | undefined): string | null {
  if (!owner?.startsWith('team:')) return null;
  return owner.slice(owner.indexOf('/') + 1);
}

function splitRef(ref: string): [string, string] {
  const rest = ref.slice(ref.indexOf(':') + 1);
  const slash = rest.indexOf('/');
  return slash === -1 ? ['default', rest] : [rest.slice(0, slash), rest.slice(slash + 1)];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
