import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { ApiError } from '../client.ts';
import { isFinal, type ActionRun, type ActionsClient, type ActionView, type RunRequest } from '../actions-client.ts';
import type { AppRef } from '../golden-client.ts';
import { CliError, fields, info, render, table, type Cell } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { ENV, NS, type NsOpts } from './deploy.ts';
import { actionsFor, reportRun, runText, shortId } from './runs.ts';
import { collect, withOutput } from './shared.ts';

/**
 * `pave actions list|show` and `pave run`: the golden actions an application offers (its template's
 * and its add-ons'), and running one in an environment. `pave run` converts --param values to the
 * types the action declares, asks for the typed confirmation where the action wants one (at a
 * terminal; elsewhere --confirm <env name> gives it), streams the run's output on stderr, prints how
 * it ended on stdout, and exits 1 unless it succeeded. Ctrl-C while it runs cancels it (exit code 130).
 */

// ---- parameters -------------------------------------------------------------------------------

interface ParamSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  writeOnly?: boolean;
  items?: ParamSchema;
}

const properties = (a: ActionView) => ((a.parameters as { properties?: Record<string, ParamSchema> }).properties ?? {});
const required = (a: ActionView) => ((a.parameters as { required?: string[] }).required ?? []);
/** A parameter the platform team marked secret: never shown, masked in the run's record and output. */
const isSecret = (p: ParamSchema) => p.writeOnly === true || p.format === 'password';
const typesOf = (p: ParamSchema | undefined) => (p?.type === undefined ? [] : Array.isArray(p.type) ? p.type : [p.type]);

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0'];

/** One value as the first of `types` it reads as (text last); undefined when none. */
function convert(raw: string, types: string[], items: ParamSchema | undefined): { value: unknown } | undefined {
  for (const t of [...types.filter((x) => x !== 'string'), ...types.filter((x) => x === 'string')]) {
    if (t === 'null' && raw === 'null') return { value: null };
    if (t === 'integer' && INTEGER.test(raw) && Number.isSafeInteger(Number(raw))) return { value: Number(raw) };
    if (t === 'number' && NUMBER.test(raw)) return { value: Number(raw) };
    if (t === 'boolean' && TRUE.includes(raw.toLowerCase())) return { value: true };
    if (t === 'boolean' && FALSE.includes(raw.toLowerCase())) return { value: false };
    if (t === 'object' || (t === 'array' && raw.trimStart().startsWith('['))) {
      try {
        const v = JSON.parse(raw) as unknown;
        if (t === 'object' ? v !== null && typeof v === 'object' && !Array.isArray(v) : Array.isArray(v)) return { value: v };
      } catch {
        // not JSON: the next type, or an error
      }
    } else if (t === 'array') {
      // a,b,c: each item as the items' type
      const parts = raw === '' ? [] : raw.split(',');
      const itemTypes = typesOf(items);
      const values = parts.map((p) => (itemTypes.length ? convert(p.trim(), itemTypes, items?.items) : { value: p.trim() }));
      if (values.every((v) => v !== undefined)) return { value: values.map((v) => v!.value) };
    }
    if (t === 'string') return { value: raw };
  }
  return undefined;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'a JSON object', array: 'a JSON array or a,b,c', null: 'null', string: 'text',
};

/**
 * `--param k=v` values → the run's params, each converted to the type the action declares for it
 * (integer, number, boolean, array, object; text otherwise). A parameter the action does not declare
 * goes as text: the server refuses it with its field path.
 */
export function convertParams(values: string[] | undefined, action: ActionView): Record<string, unknown> {
  const props = properties(action);
  const out: Record<string, unknown> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new CliError(`--param takes name=value; got "${v}"`, 2);
    const name = v.slice(0, i);
    const raw = v.slice(i + 1);
    if (name in out) throw new CliError(`--param ${name} is given twice`, 2);
    const p = Object.hasOwn(props, name) ? props[name] : undefined;
    const types = typesOf(p);
    if (!types.length) {
      out[name] = raw;
      continue;
    }
    const converted = convert(raw, types, p?.items);
    if (!converted) {
      const shown = p && isSecret(p) ? 'the value' : `"${raw}"`;
      throw new CliError(`--param ${name}: ${shown} is not ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}, which ${action.key}'s parameter ${name} must be`, 2);
    }
    out[name] = converted.value;
  }
  return out;
}

/** `integer, 1 to 10` and the like: what a parameter takes. */
function constraintText(p: ParamSchema): string {
  const parts: string[] = [];
  if (p.enum) parts.push(`one of ${p.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`);
  if (p.minimum !== undefined && p.maximum !== undefined) parts.push(`${p.minimum} to ${p.maximum}`);
  else if (p.minimum !== undefined) parts.push(`at least ${p.minimum}`);
  else if (p.maximum !== undefined) parts.push(`at most ${p.maximum}`);
  if (p.minLength !== undefined || p.maxLength !== undefined) parts.push(`${p.minLength ?? 0} to ${p.maxLength ?? '∞'} characters`);
  if (p.pattern) parts.push(`matching ${p.pattern}`);
  if (p.format && p.format !== 'password') parts.push(`format ${p.format}`);
  return parts.join('; ');
}

function parametersTable(a: ActionView): string {
  const req = required(a);
  return table(
    ['PARAMETER', 'TYPE', 'REQUIRED', 'DEFAULT', 'ALLOWED', 'DESCRIPTION'],
    Object.entries(properties(a)).map(([name, p]): Cell[] => [
      name,
      `${typesOf(p).join('|') || 'any'}${isSecret(p) ? ' (secret)' : ''}`,
      req.includes(name) ? 'yes' : 'no',
      p.default === undefined ? null : isSecret(p) ? '********' : typeof p.default === 'string' ? p.default : JSON.stringify(p.default),
      constraintText(p),
      [p.title, p.description].filter(Boolean).join(': '),
    ]),
  );
}

// ---- rendering --------------------------------------------------------------------------------

const CONFIRM_TEXT: Record<ActionView['confirm'], string> = {
  production: 'in production environments (--confirm <env name>, or typed at a terminal)',
  always: 'always (--confirm <env name>, or typed at a terminal)',
  never: 'never',
};

const allowedText = (a: ActionView) => (a.allowedHere === null ? null : a.allowedHere ? 'yes' : 'no');

function actionsTable(items: ActionView[]): string {
  return table(['KEY', 'TITLE', 'KIND', 'SOURCE', 'ENVIRONMENTS', 'ROLE', 'ALLOWED HERE'], items.map((a) => [a.key, a.title, a.kind, a.source, a.environments.join(','), a.role, allowedText(a)]));
}

/** `pave run scale --app shop --env <env> --param replicas=<integer>`: how to run it, required parameters filled with their types. */
function usage(a: ActionView, app: AppRef, env: string | undefined): string {
  const req = required(a);
  const params = Object.entries(properties(a))
    .filter(([name]) => req.includes(name))
    .map(([name, p]) => ` --param ${name}=<${typesOf(p).join('|') || 'value'}>`)
    .join('');
  const confirm = a.confirm === 'always' ? ` --confirm ${env ?? '<env>'}` : '';
  return `pave run ${a.key} --app ${appLabel(app)} --env ${env ?? '<env>'}${params}${confirm}`;
}

function actionText(a: ActionView, app: AppRef, env: string | undefined): string {
  const props = Object.keys(properties(a));
  return [
    fields([
      ['Action', a.key === a.id ? a.key : `${a.key} (${a.id} of ${a.addon})`],
      ['Title', a.title],
      ['Description', a.description],
      ['Kind', a.kind],
      ['Source', a.source],
      ['Environments', a.environments.join(', ')],
      [env ? `Allowed in ${env}` : 'Allowed here', allowedText(a)],
      ['Role', a.role === 'admin' ? 'admin (admins only)' : 'developer (members of the owning team, and admins)'],
      ['Confirmation', CONFIRM_TEXT[a.confirm]],
      ['Timeout', `${a.timeoutSeconds} s`],
    ]),
    '',
    props.length ? parametersTable(a) : 'No parameters.',
    '',
    `Run it: ${usage(a, app, env)}`,
  ].join('\n');
}

// ---- running ----------------------------------------------------------------------------------

/** Asks for the environment's name on the terminal; true when it was typed exactly. Ctrl-C or Ctrl-D there runs nothing. */
async function typedConfirmation(env: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const ctl = new AbortController();
  rl.once('SIGINT', () => ctl.abort());
  rl.once('close', () => ctl.abort());
  try {
    return (await rl.question(`Type the environment's name (${env}) to confirm: `, { signal: ctl.signal })).trim() === env;
  } catch (err) {
    if (ctl.signal.aborted) throw new CliError('aborted; nothing was run', 130);
    throw err;
  } finally {
    rl.close();
  }
}

/** The confirmation to send: --confirm, or the name typed at a terminal; refuses without either. */
async function confirmation(a: ActionView, env: string, why: string, o: { confirm?: string; yes?: boolean }): Promise<string> {
  if (o.confirm !== undefined) return o.confirm;
  if (!process.stdin.isTTY) {
    throw new CliError(`${why}: pass --confirm ${env} to run it${o.yes ? ' (--yes does not confirm it)' : ''}; stdin is not a terminal, so there is no one to type it`, 2);
  }
  info(`${why}.`);
  if (!(await typedConfirmation(env))) throw new CliError(`aborted: that is not "${env}"; nothing was run`);
  return env;
}

/** Why `a` asks for confirmation in `env`, or null when it does not. */
function asksConfirmation(a: ActionView, env: string, envType: string | undefined): string | null {
  if (a.confirm === 'always') return `${a.key} asks for confirmation in every environment`;
  if (a.confirm === 'production' && envType === 'production') return `${a.key} asks for confirmation in ${env}, a production environment`;
  return null;
}

/** What describeError prints for a refusal (detail, field errors), with a hint that fits runs; exit code 1. */
function refused(err: ApiError, hint: string): null {
  info(`error: ${err.detail}`);
  for (const e of err.errors) info(`  ${e.path}: ${e.message}`);
  info(`hint: ${hint}`);
  process.exitCode = 1;
  return null;
}

/**
 * Starts the run; null when the server refused it (reported). A 428 the CLI did not expect is asked
 * for at a terminal (once), or refused naming --confirm.
 */
async function start(client: ActionsClient, app: AppRef, env: string, a: ActionView, req: RunRequest, o: RunOpts): Promise<ActionRun | null> {
  try {
    return await client.start(app, env, a.key, req);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 428 && req.confirm === undefined) {
      const confirm = await confirmation(a, env, `${a.key} asks for confirmation in ${env}`, o);
      return start(client, app, env, a, { ...req, confirm }, o);
    }
    if (err.status === 400) return refused(err, `"pave actions show ${appLabel(app)} ${a.key}" lists its parameters, their types and limits`);
    if (err.status === 403) return refused(err, `"pave actions list ${appLabel(app)} --env ${env}" shows which actions may run there; "pave actions show" says who may run one`);
    throw err;
  }
}

/**
 * Prints the run's output on stderr as it comes, until it ends. The first Ctrl-C cancels the run
 * (the answer comes once it stopped); a second one stops waiting for that. Returns the run as it ended and
 * whether it was cancelled from here.
 */
async function follow(client: ActionsClient, run: ActionRun): Promise<{ run: ActionRun; interrupted: boolean }> {
  const ctl = new AbortController();
  let cancelling: Promise<ActionRun | null> | null = null;
  const onSigint = () => {
    if (cancelling) process.exit(130);
    info(`\nCancelling run ${shortId(run.id)} (Ctrl-C again to stop waiting for it)…`);
    cancelling = client.cancel(run.id).then(
      (r) => r,
      (err: unknown) => {
        info(`error: could not cancel run ${shortId(run.id)}: ${err instanceof Error ? err.message : String(err)}`);
        return null;
      },
    );
    void cancelling.finally(() => ctl.abort());
  };
  process.on('SIGINT', onSigint);
  try {
    await client.output(run.id, { follow: true, signal: ctl.signal }, (l) => info(l.line ? `  ${l.line}` : ''));
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (cancelling) {
    const r = await (cancelling as Promise<ActionRun | null>);
    return { run: r ?? (await client.run(run.id)), interrupted: true };
  }
  // The output ends when the run does; its record is written just before.
  let r = await client.run(run.id);
  for (let i = 0; !isFinal(r) && i < 20; i++) {
    await new Promise((res) => setTimeout(res, 250));
    r = await client.run(run.id);
  }
  if (!isFinal(r)) throw new CliError(`the output of run ${shortId(run.id)} ended while it is still ${r.status}; see "pave runs show ${run.id}"`);
  return { run: r, interrupted: false };
}

type RunOpts = NsOpts & { app: string; env: string; param?: string[]; confirm?: string; yes?: boolean; wait: boolean };

export function runCommand(): Command {
  return withOutput(
    new Command('run')
      .argument('<action>', 'action key, as "pave actions list <app>" shows (e.g. migrate, or cache:purge-cache)')
      .description('Run one of an application\'s golden actions in an environment: its output streams on stderr, how it ended goes to stdout (exit code 1 unless it succeeded)')
      .requiredOption('--app <app>', 'application name (or namespace/name)')
      .requiredOption(...ENV)
      .option('-p, --param <name=value>', 'a parameter (repeatable); converted to the type the action declares', collect)
      .option('--confirm <env>', 'the environment\'s name, where the action asks for confirmation (needed without a terminal)')
      .addOption(new Option('-y, --yes', 'does not confirm anything: actions that ask for confirmation need --confirm <env>').hideHelp())
      .option('--no-wait', 'start it and return at once with its id (follow it with "pave runs logs <id> -f")')
      .option(...NS),
  )
    .addHelpText(
      'after',
      `
Confirmation:
  Actions ask for the environment's name, typed, before they run in production environments (or
  always, or never, as their template or add-on says). At a terminal, pave run asks for it; in scripts
  and CI pass --confirm <env name>. --yes does not confirm such a run.

Examples:
  pave run migrate --app shop --env development
  pave run purge-cache --app shop --env production --param pattern='session:*' --confirm production
  pave run scale --app shop --env staging --param replicas=3

Ctrl-C while it runs cancels the run (exit code 130); a second Ctrl-C stops waiting for it to stop.`,
    )
    .action(async (key: string, o: RunOpts, cmd: Command) => {
      const app = appRef(o.app, o.namespace);
      const client = actionsFor(cmd);
      const [{ items }, envs] = await Promise.all([client.actions(app, o.env), client.environments(app).then((r) => r.items, () => null)]);
      const a = items.find((x) => x.key === key) ?? items.find((x) => x.addon !== null && `${x.addon}:${x.id}` === key);
      if (!a) {
        throw new CliError(`${appLabel(app)} has no action "${key}"; it has ${items.map((x) => x.key).join(', ') || 'none'} ("pave actions list ${appLabel(app)}")`, 1);
      }
      const params = convertParams(o.param, a);
      if (o.confirm !== undefined && o.confirm !== o.env) throw new CliError(`--confirm must be the environment's name, "${o.env}"; got "${o.confirm}"`, 2);
      const req: RunRequest = { ...(o.param?.length ? { params } : {}), ...(o.confirm === undefined ? {} : { confirm: o.confirm }) };
      const why = asksConfirmation(a, o.env, envs?.find((e) => e.name === o.env)?.type);
      // Where it may not run at all, the server refuses it (and audits that): no confirmation is asked for then.
      if (why && a.allowedHere !== false) req.confirm = await confirmation(a, o.env, why, o);

      const started = await start(client, app, o.env, a, req, o);
      if (!started) return;
      if (!o.wait) {
        info(`Started run ${shortId(started.id)}: ${a.key} in ${o.env} of ${appLabel(app)} (${started.status}). Follow it with "pave runs logs ${started.id} -f".`);
        await render(o.output, started, () => runText(started));
        return;
      }
      info(`Running ${a.key} in ${o.env} of ${appLabel(app)} (run ${shortId(started.id)})…`);
      const { run, interrupted } = await follow(client, started);
      await render(o.output, run, () => runText(run));
      reportRun(run);
      if (interrupted) process.exitCode = 130;
    });
}

export function actionsCommand(): Command {
  const group = new Command('actions').description('Golden actions an application offers (its template\'s and its add-ons\'): runbooks to run with "pave run"');

  withOutput(group.command('list').alias('ls').argument('<app>', 'application name (or namespace/name)').description('Actions of an application; with --env, whether each may run there').option(...ENV).option(...NS))
    .action(async (arg: string, o: NsOpts & { env?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const { items } = await actionsFor(cmd).actions(app, o.env);
      await render(o.output, { items }, () => (items.length ? actionsTable(items) : `${appLabel(app)} offers no actions: its template and add-ons declare none.`));
    });

  withOutput(
    group
      .command('show')
      .argument('<app>', 'application name (or namespace/name)')
      .argument('<action>', 'action key')
      .description('One action: what it does, where and by whom it may run, its confirmation, timeout and parameters (types, defaults, required)')
      .option(...ENV)
      .option(...NS),
  ).action(async (arg: string, key: string, o: NsOpts & { env?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const { items } = await actionsFor(cmd).actions(app, o.env);
      const a = items.find((x) => x.key === key) ?? items.find((x) => x.addon !== null && `${x.addon}:${x.id}` === key);
      if (!a) throw new CliError(`${appLabel(app)} has no action "${key}"; it has ${items.map((x) => x.key).join(', ') || 'none'}`);
      await render(o.output, a, () => actionText(a, app, o.env));
    });

  return group;
}

