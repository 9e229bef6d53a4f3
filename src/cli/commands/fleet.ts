import { Command, Option } from 'commander';
import type { FleetPlan, FleetPattern, PatternKind, Upgrade, UpgradeEvent } from '../../contracts/fleet.ts';
import { resolveConnection } from '../config.ts';
import { FleetClient } from '../fleet-client.ts';
import { CliError, fields, info, render, table } from '../output.ts';
import { ms, when, who } from './deploy.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { collect, pairs, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave fleet`: which applications run which version of each template and add-on, pins, upgrade
 * plans, and upgrades in waves with live progress (pause, resume, cancel). An upgrade is always a
 * reviewed plan applied: `pave fleet plan` prints its id, `pave fleet upgrade <plan>` applies it.
 */

const fleetFor = (cmd: Command) => new FleetClient(resolveConnection(cmd.optsWithGlobals<{ context?: string }>().context));
const short = (ref: string) => ref.replace(/^application:/, '').replace(/^default\//, '');
const team = (ref: string | null) => (ref ? ref.replace(/^team:default\//, '').replace(/^team:/, '') : null);
const nonNegative = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new CliError(`${name} must be a whole number, 0 or more`, 2);
  return Number(v);
};

interface PatternOpts {
  template?: string;
  addon?: string;
}

/** --template NAME or --addon NAME (exactly one). */
function pattern(o: PatternOpts, required = true): { kind: PatternKind; name: string } | undefined {
  if (o.template && o.addon) throw new CliError('give --template or --addon, not both', 2);
  if (o.template) return { kind: 'template', name: o.template };
  if (o.addon) return { kind: 'addon', name: o.addon };
  if (required) throw new CliError('name the template (--template NAME) or the add-on (--addon NAME)', 2);
  return undefined;
}

const withPattern = (cmd: Command, what: string) => cmd.option('--template <name>', `a template ${what}`).option('--addon <name>', `an add-on ${what}`);

// ---- rendering --------------------------------------------------------------------------------

export function fleetText(items: FleetPattern[]): string {
  const rows = items.flatMap((p) =>
    (p.versions.length ? p.versions : [null]).map((v, i) => [
      i === 0 ? `${p.kind} ${p.name}` : '',
      v ? `${v.version}${v.latest ? ' (latest)' : v.published ? '' : ' (retired)'}` : '-',
      v?.applications ?? 0, v?.environments ?? 0, v?.pinned || null,
      i === 0 ? `${p.behind} of ${p.applications}` : '',
    ]),
  );
  const pins = items.flatMap((p) => p.pins.map((x) => [`${p.kind} ${p.name}`, short(x.application), x.version, x.reason, who(x.createdBy)]));
  return `${table(['PATTERN', 'VERSION', 'APPS', 'ENVIRONMENTS', 'PINNED', 'BEHIND'], rows)}${pins.length ? `\n\nPins:\n${table(['PATTERN', 'APPLICATION', 'AT', 'REASON', 'BY'], pins)}` : ''}`;
}

const show = (v: unknown) => (v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

export function planText(p: FleetPlan): string {
  const out: string[] = [`Plan ${p.id}: ${p.kind} ${p.name} → ${p.version}`, `${p.applications.length} to upgrade, ${p.excluded.length} left out, ${p.upToDate} already on ${p.version}`];
  for (const a of p.applications) {
    out.push('', `${short(a.application)} (${team(a.team) ?? 'no team'}): ${a.from} → ${a.to}, environments ${a.environments.map((e) => `${e.name}${e.released ? '' : ' (nothing released)'}`).join(', ') || 'none'}`);
    for (const i of a.inputs) out.push(`  input ${i.name}: ${i.change === 'added' ? `+ ${show(i.to)}` : i.change === 'removed' ? `- ${show(i.from)}` : `${show(i.from)} → ${show(i.to)}`} (${i.why})`);
    for (const w of a.workload) out.push(`  workload ${w.path}: ${w.change === 'added' ? `+ ${show(w.to)}` : w.change === 'removed' ? `- ${show(w.from)}` : `${show(w.from)} → ${show(w.to)}`}`);
    if (a.customWorkload) out.push('  workload: its own (template workload changes do not reach it)');
    for (const x of a.addons) out.push(`  add-on ${x.instance} (${x.addon}): ${x.change}${x.from !== x.to ? ` ${x.from ?? '-'} → ${x.to ?? '-'}` : ''}`);
    for (const r of a.resources) out.push(`  ${r.action === 'create' ? '+' : r.action === 'delete' ? '-' : '~'} ${r.environment}/${r.resource} (${r.type}) ${r.action}${r.changes.length ? `: ${r.changes.map((c) => c.field).join(', ')}` : ''}${r.reason ? ` (${r.reason})` : ''}`);
    const act = a.actions;
    if (act.added.length || act.removed.length || act.changed.length) out.push(`  actions:${act.added.map((x) => ` +${x}`).join('')}${act.removed.map((x) => ` -${x}`).join('')}${act.changed.map((x) => ` ~${x}`).join('')}`);
    for (const w of a.warnings) out.push(`  warning: ${w}`);
  }
  if (p.excluded.length) out.push('', 'Left out:', table(['APPLICATION', 'FROM', 'WHY'], p.excluded.map((e) => [short(e.application), e.from, e.reason])));
  if (p.applications.length) out.push('', `Apply it with: pave fleet upgrade ${p.id}`);
  return out.join('\n');
}

export function upgradeText(u: Upgrade): string {
  const c = u.counts;
  return [
    fields([
      ['Upgrade', u.id], ['Target', `${u.kind} ${u.name} ${u.version}`], ['Status', u.status], ['Error', u.error],
      ['Progress', `${c.upgraded} upgraded, ${c.failed} failed, ${c.skipped} skipped, ${c.cancelled} not started, ${c.running} running, ${c.pending} pending (of ${c.total})`],
      ['Options', `canary ${u.options.canarySize}, waves of ${u.options.waveSize}, ${u.options.concurrency} at a time, failure budget ${u.options.failureBudget}, order ${u.options.environmentOrder.join(' → ')}`],
      ['By', who(u.createdBy)], ['Started', when(u.startedAt)], ['Finished', when(u.finishedAt)],
    ]),
    '',
    table(['WAVE', 'APPLICATION', 'STATE', 'FROM', 'TO', 'ENVIRONMENTS', 'TOOK', 'ERROR'], u.applications.map((a) => [
      u.waves.find((w) => w.index === a.wave)?.canary ? `${a.wave} (canary)` : a.wave, short(a.application), a.state, a.from, a.to,
      a.environments.map((e) => `${e.name}:${e.state}${e.deployment ? `#${e.deployment}` : ''}`).join(' '), ms(a.durationMs), a.error,
    ])),
  ].join('\n');
}

const eventLine = (e: UpgradeEvent) => `${when(e.at)} ${e.message}`;

/** Follows an upgrade to its end, printing events on stderr; exit code 1 unless it succeeded. */
async function followToEnd(fleet: FleetClient, id: string, format: OutputOpts['output'], after = 0): Promise<void> {
  const u = await fleet.follow(id, (e) => info(eventLine(e)), after);
  await render(format, u, () => upgradeText(u));
  if (u.status !== 'succeeded') process.exitCode = 1;
}

// ---- commands ---------------------------------------------------------------------------------

export function fleetCommand(): Command {
  const fleet = new Command('fleet').description('Versions of templates and add-ons across applications, pins, upgrade plans and upgrades in waves');

  withOutput(
    fleet
      .command('view', { isDefault: true })
      .description('Per template and add-on: applications and environments per version, how many are behind, the pins')
      .addOption(new Option('--kind <kind>', 'only templates or only add-ons').choices(['template', 'addon']))
      .option('--name <name>', 'only this template or add-on'),
  ).action(async function (this: Command, o: OutputOpts & { kind?: PatternKind; name?: string }) {
    const res = await fleetFor(this).view({ kind: o.kind, name: o.name });
    await render(o.output, res, () => fleetText(res.items));
  });

  withOutput(
    withPattern(fleet.command('apps').description('Applications on a template or add-on, with their version, the latest and their pin'), 'to list the users of')
      .option('--version <range>', 'only this version (or semver range)')
      .option('--team <team>', 'only this team\'s applications')
      .option('--env-type <type>', 'only applications with an environment of this type')
      .option('--label <key=value>', 'only applications with this label (repeatable)', collect)
      .option('--behind', 'only those behind the latest version'),
  ).action(async function (this: Command, o: OutputOpts & PatternOpts & { version?: string; team?: string; envType?: string; label?: string[]; behind?: boolean }) {
    const p = pattern(o, false);
    const res = await fleetFor(this).applications({ kind: p?.kind ?? 'template', name: p?.name, version: o.version, team: o.team, environmentType: o.envType, label: o.label, behind: o.behind ? true : undefined });
    await render(o.output, res, () => table(['APPLICATION', 'TEAM', 'PATTERN', 'VERSION', 'LATEST', 'ENVIRONMENTS', 'PIN', 'UPGRADING'], res.items.map((a) => [
      short(a.application), team(a.team), `${a.pattern}${a.instance ? ` as ${a.instance}` : ''}`, `${a.version}${a.behind ? ' (behind)' : ''}`, a.latest,
      a.environments.map((e) => e.name).join(', '), a.pin ? `pinned: ${a.pin.reason}` : null, a.upgrading?.slice(0, 8),
    ])) + (res.truncated ? '\n(more: narrow the selection)' : ''));
  });

  withOutput(
    withPattern(fleet.command('plan').description('Plan an upgrade: per application the diff of inputs, workload, add-ons, resources and actions, and who is left out and why'), 'to upgrade to')
      .option('--version <version>', 'the target version (default: the latest)')
      .option('--app <name>', 'only this application (repeatable)', collect)
      .option('--from <range>', 'only applications on this version or semver range (repeatable)', collect)
      .option('--team <team>', 'only this team\'s applications (repeatable)', collect)
      .option('--env-type <type>', 'only applications with an environment of this type (repeatable)', collect)
      .option('--label <key=value>', 'only applications with this label (repeatable)', collect)
      .option('--input <name=value>', 'a value for an input the target version adds (repeatable; JSON values are parsed)', collect),
  ).action(async function (this: Command, o: OutputOpts & PatternOpts & { version?: string; app?: string[]; from?: string[]; team?: string[]; envType?: string[]; label?: string[]; input?: string[] }) {
    const p = pattern(o)!;
    const inputs = Object.fromEntries(Object.entries(pairs(o.input, '--input') ?? {}).map(([k, v]) => {
      try {
        return [k, JSON.parse(v) as unknown];
      } catch {
        return [k, v];
      }
    }));
    const selector = {
      ...(o.app ? { applications: o.app } : {}), ...(o.from ? { versions: o.from } : {}), ...(o.team ? { teams: o.team } : {}),
      ...(o.envType ? { environmentTypes: o.envType as ('development' | 'staging' | 'production' | 'preview')[] } : {}), ...(o.label ? { labels: pairs(o.label, '--label') } : {}),
    };
    const plan = await fleetFor(this).plan({ kind: p.kind, name: p.name, ...(o.version ? { version: o.version } : {}), selector, ...(o.input ? { inputs } : {}) });
    await render(o.output, plan, () => planText(plan));
  });

  const plans = fleet.command('plans').description('Recorded plans');
  withOutput(plans.command('show').description('Show a plan').argument('<id>', 'plan id')).action(async function (this: Command, id: string, o: OutputOpts) {
    const plan = await fleetFor(this).getPlan(id);
    await render(o.output, plan, () => planText(plan));
  });

  withOutput(
    fleet
      .command('upgrade')
      .description('Apply a plan: upgrade its applications in waves, with live progress (exit code 1 unless every application was upgraded)')
      .argument('<plan>', 'plan id (from pave fleet plan)')
      .option('--canary <n>', 'applications in the canary wave (0: none)', nonNegative('--canary'), 1)
      .option('--wave-size <n>', 'applications per wave after the canary', positiveInt('--wave-size', 10_000), 10)
      .option('--concurrency <n>', 'applications upgraded at once', positiveInt('--concurrency', 32), 2)
      .option('--failure-budget <n>', 'failed applications tolerated before the rollout stops', nonNegative('--failure-budget'), 0)
      .option('--env-order <types>', 'environment types, most tolerant first (default development,preview,staging,production)')
      .option('--health-timeout <seconds>', 'health check time of each redeployment', positiveInt('--health-timeout', 600))
      .option('--detach', 'start it and return; follow it with pave fleet upgrades follow'),
  ).action(async function (this: Command, plan: string, o: OutputOpts & { canary: number; waveSize: number; concurrency: number; failureBudget: number; envOrder?: string; healthTimeout?: number; detach?: boolean }) {
    const client = fleetFor(this);
    const u = await client.start({
      plan, canarySize: o.canary, waveSize: o.waveSize, concurrency: o.concurrency, failureBudget: o.failureBudget,
      ...(o.envOrder ? { environmentOrder: o.envOrder.split(',').map((s) => s.trim()) as ('development' | 'staging' | 'production' | 'preview')[] } : {}),
      ...(o.healthTimeout ? { healthTimeoutSeconds: o.healthTimeout } : {}),
    });
    info(`Upgrade ${u.id}: ${u.counts.total} application(s) to ${u.name} ${u.version} in ${u.waves.length} wave(s)`);
    if (o.detach) return render(o.output, u, () => upgradeText(u));
    await followToEnd(client, u.id, o.output);
  });

  const upgrades = fleet.command('upgrades').description('Upgrades: list, show, follow, pause, resume, cancel');
  withOutput(upgrades.command('list').description('Upgrades, newest first').option('--status <status>', 'only upgrades in this status')).action(async function (this: Command, o: OutputOpts & { status?: Upgrade['status'] }) {
    const res = await fleetFor(this).list({ status: o.status });
    await render(o.output, res, () => table(['ID', 'TARGET', 'STATUS', 'UPGRADED', 'FAILED', 'TOTAL', 'BY', 'STARTED'], res.items.map((u) => [u.id.slice(0, 8), `${u.kind} ${u.name} ${u.version}`, u.status, u.counts.upgraded, u.counts.failed, u.counts.total, who(u.createdBy), when(u.startedAt)])));
  });
  withOutput(upgrades.command('show').description('An upgrade: waves and each application\'s state').argument('<id>', 'upgrade id')).action(async function (this: Command, id: string, o: OutputOpts) {
    const u = await fleetFor(this).get(id);
    await render(o.output, u, () => upgradeText(u));
  });
  withOutput(upgrades.command('follow').description('Follow an upgrade\'s progress until it ends').argument('<id>', 'upgrade id')).action(async function (this: Command, id: string, o: OutputOpts) {
    await followToEnd(fleetFor(this), id, o.output);
  });
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    withOutput(upgrades.command(verb).description(verb === 'pause' ? 'Pause: the applications in flight finish, no other starts' : verb === 'resume' ? 'Resume a paused upgrade' : 'Cancel: the applications in flight finish, the others are not upgraded').argument('<id>', 'upgrade id'))
      .action(async function (this: Command, id: string, o: OutputOpts) {
        const u = await fleetFor(this).control(id, verb);
        await render(o.output, u, () => upgradeText(u));
      });
  }

  withOutput(withPattern(fleet.command('pin').description('Hold an application at the version it uses (upgrades leave it out, with your reason)').argument('<app>', 'APP or NAMESPACE/APP'), 'to pin').requiredOption('--reason <text>', 'why (shown to the platform team)'))
    .action(async function (this: Command, app: string, o: OutputOpts & PatternOpts & { reason: string }) {
      const p = pattern({ template: o.template, addon: o.addon })!;
      const pin = await fleetFor(this).pin(appRef(app), { kind: p.kind, name: p.name, reason: o.reason });
      await render(o.output, pin, () => `Pinned ${appLabel(appRef(app))} at ${p.kind} ${p.name} ${pin.version}: ${pin.reason}`);
    });
  withOutput(withPattern(fleet.command('unpin').description('Remove a pin').argument('<app>', 'APP or NAMESPACE/APP'), 'to unpin')).action(async function (this: Command, app: string, o: OutputOpts & PatternOpts) {
    const p = pattern(o)!;
    const pin = await fleetFor(this).unpin(appRef(app), p.kind, p.name);
    await render(o.output, pin, () => `Unpinned ${appLabel(appRef(app))} from ${p.kind} ${p.name} ${pin.version}`);
  });
  withOutput(fleet.command('history').description('The upgrades an application went through, and its pins').argument('<app>', 'APP or NAMESPACE/APP')).action(async function (this: Command, app: string, o: OutputOpts) {
    const h = await fleetFor(this).history(appRef(app));
    await render(o.output, h, () => {
      const rows = table(['UPGRADE', 'PATTERN', 'FROM', 'TO', 'STATE', 'ENVIRONMENTS', 'WHEN', 'ERROR'], h.items.map((i) => [i.upgrade.slice(0, 8), `${i.kind} ${i.name}`, i.from, i.to, i.state, i.environments.map((e) => `${e.name}:${e.state}`).join(' '), when(i.finishedAt ?? i.startedAt), i.error]));
      const pins = h.pins.map((p) => `pinned at ${p.kind} ${p.name} ${p.version}: ${p.reason} (${who(p.createdBy)}, ${when(p.createdAt)})`);
      return [rows, ...pins].join('\n');
    });
  });
  return fleet;
}
