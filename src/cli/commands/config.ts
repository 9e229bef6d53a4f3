import { Command } from 'commander';
import type { Change, Config, ConfigHistory } from '../deploy-client.ts';
import { CliError, fields, info, render, table } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { appCommand, deployFor, when, who, type EnvOpts } from './deploy.ts';

/**
 * `pave config`, `pave config set|unset|history`: an environment's variables and secrets, versioned.
 * A change takes effect at the next deployment. Secret values are sent, never shown: the server
 * answers with them masked, and this command masks them again before printing anything.
 */

const MASK = '********';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(name: string, what: string): void {
  if (!NAME.test(name)) throw new CliError(`${what} "${name}" is not a variable name: letters, digits and "_", not starting with a digit`, 2);
}

/** `KEY=VALUE` arguments → a record; the value may be empty and may contain "=". A secret is never echoed, not even in an error. */
function assignments(args: string[], secret: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, a] of args.entries()) {
    const i = a.indexOf('=');
    if (i <= 0) throw new CliError(secret ? `KEY=VALUE argument ${n + 1} is not KEY=VALUE (secret values are not echoed)` : `"${a}" is not KEY=VALUE`, 2);
    const key = a.slice(0, i);
    checkName(key, 'the key of');
    out[key] = a.slice(i + 1);
  }
  return out;
}

/** The config with every secret value replaced by the mask (whatever the server sent, unless revealed). */
function masked(c: Config, reveal: boolean): Config {
  if (reveal) return c;
  const secretNames = new Set(Object.keys(c.secrets));
  const hide = (vars: Record<string, string>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, secretNames.has(k) ? MASK : v]));
  return {
    ...c,
    secrets: Object.fromEntries(Object.keys(c.secrets).map((k) => [k, MASK])),
    layers: c.layers.map((l) => ({ ...l, variables: l.source.startsWith('environment config') ? hide(l.variables) : l.variables })),
  };
}

function configText(c: Config, label: string): string {
  const own = [
    ...Object.entries(c.variables).map(([k, v]) => [k, v, 'variable']),
    ...Object.entries(c.secrets).map(([k, v]) => [k, v, 'secret']),
  ].sort(([a], [b]) => String(a).localeCompare(String(b)));
  const parts = [
    fields([
      ['Environment', `${c.environment} of ${label}`],
      ['Version', c.version === 0 ? '0 (never changed)' : `${c.version}${c.change ? `: ${c.change}` : ''}`],
      ['Changed', c.createdAt ? `${when(c.createdAt)} by ${who(c.createdBy)}` : null],
    ]),
    '',
    own.length ? table(['NAME', 'VALUE', 'KIND'], own) : 'No variables or secrets set; "pave config set" sets them.',
  ];
  // What the processes get: each variable from the highest layer that sets it.
  const effective = new Map<string, [string, string]>();
  for (const l of c.layers) for (const [k, v] of Object.entries(l.variables)) effective.set(k, [v, l.source]);
  if (effective.size) {
    parts.push('', 'What the processes get (the higher layer wins):', table(['NAME', 'VALUE', 'FROM'], [...effective].sort(([a], [b]) => a.localeCompare(b)).map(([k, [v, source]]) => [k, v, source])));
  }
  return parts.join('\n');
}

/** `+ A=1`, `~ B: 1 → 2`, `- C`; secrets never with their value. */
export function changeText(c: Change): string {
  if (c.secret) return c.change === 'added' ? `+${c.name} (secret)` : c.change === 'removed' ? `-${c.name} (secret)` : `~${c.name} (secret)`;
  if (c.change === 'added') return `+${c.name}=${c.to ?? ''}`;
  if (c.change === 'removed') return `-${c.name}`;
  return `~${c.name}: ${c.from ?? ''} → ${c.to ?? ''}`;
}

function historyText(h: ConfigHistory): string {
  return table(['VERSION', 'CREATED', 'BY', 'CHANGES'], h.items.map((v) => [v.version, when(v.createdAt), who(v.createdBy), v.changes.map(changeText).join(', ') || v.change]));
}

/** History without any secret value, whatever the server sent. */
const maskedHistory = (h: ConfigHistory): ConfigHistory => ({ items: h.items.map((v) => ({ ...v, changes: v.changes.map((c) => (c.secret ? { ...c, from: c.from === null ? null : MASK, to: c.to === null ? null : MASK } : c)) })) });

export function configCommand(): Command {
  const group = new Command('config').description('Variables and secrets of an environment, versioned (a change takes effect at the next deployment)');

  appCommand(group.command('show', { isDefault: true }), 'Variables and secrets of an environment (secrets masked), its version, and the layers its processes get')
    .option('--reveal', 'show secret values (admins)')
    .action(async (arg: string, o: EnvOpts & { reveal?: boolean }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const c = masked(await deployFor(cmd).config(app, o.env, o.reveal === true), o.reveal === true);
      await render(o.output, c, () => configText(c, appLabel(app)));
    });

  appCommand(group.command('set'), 'Set variables, or with --secret secrets (a new config version; takes effect at the next deployment)')
    .argument('<KEY=VALUE...>', 'variables to set')
    .option('--secret', 'the values are secrets: encrypted at rest and never shown')
    .action(async (arg: string, args: string[], o: EnvOpts & { secret?: boolean }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const values = assignments(args, o.secret === true);
      await change(cmd, app, o, o.secret ? { secrets: values } : { set: values });
    });

  appCommand(group.command('unset'), 'Remove variables or secrets (a new config version; takes effect at the next deployment)')
    .argument('<KEY...>', 'variables or secrets to remove')
    .action(async (arg: string, keys: string[], o: EnvOpts, cmd: Command) => {
      for (const k of keys) checkName(k, 'the name');
      await change(cmd, appRef(arg, o.namespace), o, { unset: keys });
    });

  appCommand(group.command('history'), 'Every version of an environment\'s config, with what changed (secrets masked)').action(async (arg: string, o: EnvOpts, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    const h = maskedHistory(await deployFor(cmd).configHistory(app, o.env));
    await render(o.output, h, () => (h.items.length ? historyText(h) : `The config of ${o.env} of ${appLabel(app)} was never changed.`));
  });

  return group;
}

async function change(cmd: Command, app: { name: string; namespace: string }, o: EnvOpts, update: { set?: Record<string, string>; secrets?: Record<string, string>; unset?: string[] }): Promise<void> {
  const client = deployFor(cmd);
  const before = await client.config(app, o.env);
  const after = masked(await client.updateConfig(app, o.env, update), false);
  const where = `${o.env} of ${appLabel(app)}`;
  await render(o.output, after, () =>
    after.version === before.version
      ? `No change: the config of ${where} stays at version ${after.version}.`
      : `The config of ${where} is now version ${after.version}${after.change ? ` (${after.change})` : ''}.`,
  );
  if (after.version !== before.version && o.output === 'table') info(`It takes effect at the next deployment: "pave deploy ${appLabel(app)} --env ${o.env} --release".`);
}
