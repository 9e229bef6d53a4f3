import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ApplicationService, ManagedApplication } from '../applications/service.ts';
import type { Builder } from '../builds/builder.ts';
import type { BuildService } from '../deployments/builds.ts';
import type { DeploymentService } from '../deployments/service.ts';
import { conflict, PaveError } from '../errors.ts';
import { expandPlaceholders, PlaceholderError } from '../platform/placeholders.ts';
import type { ResourceEngine } from '../resources/engine.ts';
import type { EnvironmentRow } from '../store/schema.ts';
import type { AvailableAction } from './catalog.ts';

/**
 * What each kind of action does: a driver operation on one of the application's resources, an HTTP
 * request, a command declared by the platform team (run with the released build and environment), or
 * a lifecycle step of the deployments module. Every kind stops when `signal` aborts.
 */
export interface ActionContext {
  action: AvailableAction;
  app: ManagedApplication;
  env: EnvironmentRow;
  params: Record<string, unknown>;
  by: string;
  signal: AbortSignal;
  /** A line of output for whoever watches the run (secret values are masked by the caller). */
  output(line: string): void;
  /** Registers a value to be masked wherever it would appear in the output. */
  secret(value: string): void;
}

export interface ActionDeps {
  apps: ApplicationService;
  engine: ResourceEngine;
  deployments: DeploymentService;
  builds: BuildService;
  builder: Builder;
}

export interface ActionOutcome {
  summary: string;
  data?: Record<string, unknown> | undefined;
}

/** Quotes a value for /bin/sh: parameters reach a command as data, never as shell syntax. */
export const shellQuote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

async function expand(ctx: ActionContext, deps: ActionDeps, value: unknown, opts: { shell?: boolean } = {}): Promise<unknown> {
  // resource outputs only when the action refers to them
  const text = JSON.stringify(value) ?? '';
  let outputs: Map<string, { values: Record<string, unknown>; secret: string[] }> | null = null;
  if (text.includes('${resources.')) {
    const target = await deps.apps.target(ctx.app.ref, ctx.env.name);
    outputs = new Map((await deps.engine.list(target.env.id)).map((r) => [r.row.name, { values: r.outputs, secret: r.secretOutputs }]));
  }
  const url = text.includes('${env.url}') ? deps.deployments.internalUrl(ctx.app, ctx.env.name) : '';
  const quote = (v: unknown) => (opts.shell ? shellQuote(typeof v === 'string' ? v : JSON.stringify(v)) : v);
  try {
    return expandPlaceholders(
      value,
      (ref, raw) => {
        const [root, a, b] = ref;
        if (root === 'params') return { value: quote(ctx.params[a!]) };
        if (root === 'app') return a === 'name' ? { value: quote(ctx.app.name) } : a === 'namespace' ? { value: quote(ctx.app.namespace) } : { error: `${raw}: use \${app.name} or \${app.namespace}` };
        if (root === 'env') {
          const v = a === 'name' ? ctx.env.name : a === 'type' ? ctx.env.type : a === 'url' ? url : undefined;
          return v === undefined ? { error: `${raw}: use \${env.name}, \${env.type} or \${env.url}` } : { value: quote(v) };
        }
        if (root === 'resources') {
          const name = ctx.action.resourceNames[a!] ?? a!;
          const r = outputs?.get(name);
          if (!r) throw conflict(`${raw}: resource ${name} is not provisioned in ${ctx.env.name}; apply the environment first`);
          if (!(b! in r.values)) return { error: `${raw}: resource ${name} has no output ${b} (it has ${Object.keys(r.values).join(', ')})` };
          const v = r.values[b!];
          if (r.secret.includes(b!) && typeof v === 'string') ctx.secret(v);
          return { value: quote(v) };
        }
        return { error: `${raw} is not a placeholder actions know` };
      },
      { final: true, path: 'run' },
    );
  } catch (err) {
    if (err instanceof PlaceholderError) throw conflict(`the action cannot be prepared: ${err.message}`);
    throw err;
  }
}

export async function execute(ctx: ActionContext, deps: ActionDeps): Promise<ActionOutcome> {
  const run = ctx.action.run;
  if (run.operation) {
    const op = (await expand(ctx, deps, run.operation)) as { resource: string; name: string; args?: Record<string, unknown> };
    const target = await deps.apps.target(ctx.app.ref, ctx.env.name);
    ctx.output(`${op.name} on ${op.resource} (${ctx.env.name})`);
    // an optional parameter left empty ("") is not passed on: the operation's own default applies
    const args = Object.fromEntries(Object.entries(op.args ?? {}).filter(([, v]) => v !== '' && v !== null && v !== undefined));
    const res = await deps.engine.operate(target.ctx, op.resource, op.name, args, { signal: ctx.signal, output: ctx.output });
    return { summary: res.summary, data: res.data };
  }
  if (run.http) return http(ctx, (await expand(ctx, deps, run.http)) as NonNullable<typeof run.http>);
  if (run.command !== undefined) return command(ctx, deps, (await expand(ctx, deps, run.command, { shell: true })) as string);
  return lifecycle(ctx, deps, run.lifecycle!.step, ((await expand(ctx, deps, run.lifecycle!.args ?? {})) as Record<string, unknown>) ?? {});
}

const MAX_BODY = 64 * 1024;

async function http(ctx: ActionContext, req: { method: string; url: string; headers?: Record<string, string> | undefined; body?: unknown }): Promise<ActionOutcome> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw conflict(`the action's URL is not valid: ${req.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw conflict(`the action's URL must be http or https, not ${url.protocol}`);
  const headers = new Headers(req.headers ?? {});
  let body: string | null = null;
  if (req.body !== undefined && req.method !== 'GET') {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    if (!headers.has('content-type')) headers.set('content-type', typeof req.body === 'string' ? 'text/plain' : 'application/json');
  }
  ctx.output(`${req.method} ${url.origin}${url.pathname}`);
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(url, { method: req.method, headers, body, signal: ctx.signal, redirect: 'manual' });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw conflict(`${req.method} ${url.origin}${url.pathname} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = (await res.text()).slice(0, MAX_BODY);
  for (const line of text.split('\n').slice(0, 200)) if (line) ctx.output(line);
  const ms = Date.now() - started;
  if (res.status >= 400) throw new PaveError(409, 'action-failed', 'Action failed', `${req.method} ${url.origin}${url.pathname} answered ${res.status} ${res.statusText}`);
  return { summary: `${req.method} ${url.origin}${url.pathname} answered ${res.status} in ${ms} ms`, data: { status: res.status, ms } };
}

async function command(ctx: ActionContext, deps: ActionDeps, line: string): Promise<ActionOutcome> {
  const where = await deps.deployments.runContext(ctx.app.ref, ctx.env.name);
  for (const v of where.secretValues) ctx.secret(v);
  ctx.output(`$ ${line}`);
  const child = spawn('/bin/sh', ['-c', line], {
    cwd: where.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...where.env, PAVE_ACTION: ctx.action.id, ...Object.fromEntries(Object.entries(ctx.params).map(([k, v]) => [`PAVE_PARAM_${k.toUpperCase()}`, typeof v === 'string' ? v : JSON.stringify(v)])) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  createInterface({ input: child.stdout }).on('line', ctx.output);
  createInterface({ input: child.stderr }).on('line', ctx.output);
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 2000).unref();
    } catch {
      // gone
    }
  };
  ctx.signal.addEventListener('abort', kill, { once: true });
  const started = Date.now();
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  ctx.signal.removeEventListener('abort', kill);
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
  if (code !== 0) throw new PaveError(409, 'action-failed', 'Action failed', `${line.split(' ')[0]}… exited ${signal ? `on ${signal}` : `with code ${code}`}`);
  return { summary: `exited with code 0 in ${Date.now() - started} ms (deployment ${where.deployment.slice(0, 8)})`, data: { exitCode: 0 } };
}

async function lifecycle(ctx: ActionContext, deps: ActionDeps, step: string, args: Record<string, unknown>): Promise<ActionOutcome> {
  const emit = (e: { message: string }) => ctx.output(e.message);
  const { ref } = ctx.app;
  const env = ctx.env.name;
  const str = (k: string) => (typeof args[k] === 'string' || typeof args[k] === 'number' ? (args[k] as string | number) : undefined);
  switch (step) {
    case 'build': {
      const b = ctx.app.template.spec.build ?? {};
      const recipe = { command: typeof b.command === 'string' ? b.command : undefined };
      const source = typeof args.path === 'string' ? { kind: 'path' as const, path: args.path } : typeof args.git === 'string' ? { kind: 'git' as const, url: args.git, ref: String(args.ref ?? 'main') } : null;
      if (!source) throw conflict('the build step needs a path or git argument');
      const started = await deps.builds.start({ entityId: ctx.app.entityId, ref, recipe }, source, source.kind === 'path' ? { path: source.path } : { git: { url: source.url, ref: source.ref } }, ctx.by);
      await deps.builds.logs(started.build, (l) => ctx.output(l.line), { follow: true, signal: ctx.signal });
      const done = await started.done;
      if (done.status !== 'succeeded') throw new PaveError(409, 'action-failed', 'Action failed', `build ${done.number} failed: ${done.error}`);
      return { summary: `build ${done.number} succeeded (${done.artifact_digest?.slice(0, 19)})`, data: { build: done.number } };
    }
    case 'deploy': {
      const d = await deps.deployments.deploy(ref, env, { ...(str('build') !== undefined ? { build: Number(str('build')) || String(str('build')) } : {}), release: args.release === true || args.release === 'true' }, ctx.by, emit);
      if (d.status !== 'healthy') throw new PaveError(409, 'action-failed', 'Action failed', `deployment ${d.number} failed: ${d.error}`);
      return { summary: `deployment ${d.number} is healthy${d.released ? ' and released' : ''}`, data: { deployment: d.number } };
    }
    case 'release': {
      const sel = str('deployment');
      if (sel === undefined) throw conflict('the release step needs a deployment argument');
      const r = await deps.deployments.release(ref, env, Number(sel) || String(sel), ctx.by, emit);
      return { summary: `deployment ${r.deployment.number} is released`, data: { deployment: r.deployment.number } };
    }
    case 'rollback': {
      const to = str('to');
      const r = await deps.deployments.rollback(ref, env, to === undefined ? undefined : Number(to) || String(to), ctx.by, emit);
      return { summary: `rolled back to deployment ${r.deployment.number}${r.warm ? ' (warm)' : ''}`, data: { deployment: r.deployment.number } };
    }
    case 'promote': {
      const to = str('to');
      if (to === undefined) throw conflict('the promote step needs a to argument (the target environment)');
      const d = await deps.deployments.promote(ref, env, String(to), { release: args.release !== false && args.release !== 'false' }, ctx.by, emit);
      if (d.status !== 'healthy') throw new PaveError(409, 'action-failed', 'Action failed', `deployment ${d.number} in ${to} failed: ${d.error}`);
      return { summary: `promoted to ${to} as deployment ${d.number}`, data: { deployment: d.number } };
    }
    case 'restart': {
      const d = await deps.deployments.restart(ref, env, ctx.by, emit);
      if (d.status !== 'healthy') throw new PaveError(409, 'action-failed', 'Action failed', `deployment ${d.number} failed: ${d.error}`);
      return { summary: `restarted as deployment ${d.number}`, data: { deployment: d.number } };
    }
    case 'scale': {
      const n = Number(args.replicas);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw conflict('the scale step needs replicas: a whole number from 1 to 100');
      const d = await deps.deployments.scale(ref, env, n, ctx.by, emit);
      if (d && d.status !== 'healthy') throw new PaveError(409, 'action-failed', 'Action failed', `deployment ${d.number} failed: ${d.error}`);
      return { summary: `${env} runs ${n} web replica(s)${d ? ` (deployment ${d.number})` : ''}`, data: { replicas: n } };
    }
    default:
      throw conflict(`unknown lifecycle step ${step}`);
  }
}
