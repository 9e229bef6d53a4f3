import { readFile } from 'node:fs/promises';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import type { PolicyEvent, PolicyTestResult, PolicyView } from '../../contracts/policies.ts';
import { CliError, info, render, table } from '../output.ts';
import { clientFor, collect, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave policy list|test`: the guardrails in force, and a dry run of a request against them. `test`
 * does nothing but evaluate: it shows every policy's decision and why, and exits 1 when one denies.
 */

/** The events of src/contracts/policies.ts (the CLI imports its types only). */
const EVENTS: readonly PolicyEvent[] = ['application.create', 'addon.attach', 'resource.provision', 'deployment.create', 'release', 'action.run'];

type PolicyList = { items: PolicyView[]; errors: { file: string; line: number | null; path: string | null; message: string }[] };

/** `a.b.c=value` → sets request.a.b.c; the value is JSON when it parses (8080, true, ["a"]), else a string. */
function setPath(target: Record<string, unknown>, assignment: string): void {
  const i = assignment.indexOf('=');
  if (i <= 0) throw new CliError(`--set takes path=value, e.g. addon.inputs.size=large; got "${assignment}"`, 2);
  const keys = assignment.slice(0, i).split('.');
  const raw = assignment.slice(i + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  let node = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    node = (node[k] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function count(value: string, previous: Record<string, number> | undefined): Record<string, number> {
  const m = /^([A-Za-z0-9-]+)=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be type=count, e.g. postgres=3.');
  return { ...previous, [m[1]!]: Number(m[2]) };
}

function decisionsTable(r: PolicyTestResult): string {
  const rows = r.decisions.map((d) => [
    d.policy, d.environment, d.subject,
    !d.applies ? 'n/a' : d.denied ? 'DENY' : d.error ? 'error' : 'allow',
    d.denied ? d.message : d.error ? `${d.why}: ${d.error}` : d.why,
  ]);
  const verdict = r.allowed ? `Allowed: no policy denies this ${r.event}.` : `Denied: ${[...new Set(r.decisions.filter((d) => d.denied).map((d) => d.policy))].join(', ')}.`;
  return `${table(['POLICY', 'ENVIRONMENT', 'SUBJECT', 'DECISION', 'WHY'], rows)}\n\n${verdict}`;
}

type TestOpts = OutputOpts & { app?: string; namespace: string; env?: string; set?: string[]; request?: string; now?: string; teamApplications?: number; teamResources?: Record<string, number> };

export function policyCommand(): Command {
  const group = new Command('policy').description('Policies: the guardrails in force, and what they would decide about a request');

  withOutput(group.command('list').alias('ls').description('The policies in force, and those the platform could not load')).action(async (o: OutputOpts, cmd: Command) => {
    const list = await clientFor(cmd).json<PolicyList>('GET', '/api/v1/policies');
    await render(o.output, list, () => {
      const rows = list.items.map((p) => [p.name, p.revision, p.on.join(', '), p.environmentTypes?.join(', ') ?? 'all', p.description ?? p.title]);
      const out = list.items.length ? table(['NAME', 'REVISION', 'ON', 'ENVIRONMENTS', 'DESCRIPTION'], rows) : 'No policies are in force.';
      const broken = list.errors.map((e) => `  ${e.file}${e.line === null ? '' : `:${e.line}`}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
      return broken.length ? `${out}\n\nNot in force (they did not load):\n${broken.join('\n')}` : out;
    });
  });

  withOutput(
    group
      .command('test')
      .description('Evaluate a request against every policy, without doing it; exit code 1 when one denies')
      .addArgument(new Argument('<event>', 'what is asked').choices(EVENTS))
      .option('--app <name>', 'an existing application: its team, template, inputs, environments and resources fill the request')
      .option('--namespace <ns>', "the application's namespace", 'default')
      .option('--env <name>', 'one of its environments (default: each of them)')
      .option('--set <path=value>', 'a request field, e.g. addon.name=postgres, addon.inputs.size=large, environment.type=production, actor.roles=[] (repeatable)', collect)
      .option('--request <file>', 'request fields from a JSON or YAML file (--set wins)')
      .option('--now <time>', 'evaluate at this time (ISO 8601 with offset), e.g. 2026-11-21T18:30:00Z')
      .addOption(new Option('--team-applications <n>', "assume the team has this many applications").argParser((v) => {
        if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number.');
        return Number(v);
      }))
      .option('--team-resources <type=n>', 'assume the team has this many resources of a type (repeatable)', count),
  ).action(async (event: string, o: TestOpts, cmd: Command) => {
    const request: Record<string, unknown> = o.request ? ((await import('yaml')).parse(await readFile(o.request, 'utf8')) as Record<string, unknown>) ?? {} : {};
    for (const s of o.set ?? []) setPath(request, s);
    const team = o.teamApplications !== undefined || o.teamResources ? { ...(o.teamApplications !== undefined ? { applications: o.teamApplications } : {}), ...(o.teamResources ? { resources: o.teamResources } : {}) } : undefined;
    const body = { event, namespace: o.namespace, ...(o.app ? { application: o.app } : {}), ...(o.env ? { environment: o.env } : {}), ...(Object.keys(request).length ? { request } : {}), ...(o.now ? { now: o.now } : {}), ...(team ? { team } : {}) };
    const result = await clientFor(cmd).json<PolicyTestResult>('POST', '/api/v1/policies/test', { body });
    await render(o.output, result, () => decisionsTable(result));
    if (!result.allowed) {
      if (o.output !== 'table') info(`denied by ${[...new Set(result.decisions.filter((d) => d.denied).map((d) => d.policy))].join(', ')}`);
      process.exitCode = 1;
    }
  });

  return group;
}
