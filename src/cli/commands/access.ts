import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import type { RoleBinding } from '../../contracts/access.ts';
import { CliError, render, table } from '../output.ts';
import { clientFor, confirmOrRefuse, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave access bind|unbind|list`: role bindings (admins). A binding gives a user, or every member of a
 * team, a role for one team's applications (or every team's) in some environment types (or all).
 */

const ROLES = ['admin', 'platform-engineer', 'developer', 'deployer', 'viewer'];
const ENV_TYPES = ['development', 'staging', 'production', 'preview'];

/** `alice` → `user:alice`; `team:sre`, `user:default/alice` stay. */
function subjectOf(value: string, asTeam: boolean): string {
  if (value.includes(':')) return value;
  return `${asTeam ? 'team' : 'user'}:${value}`;
}

function envType(value: string, previous: string[] | undefined): string[] {
  for (const v of value.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (v !== '*' && !ENV_TYPES.includes(v)) throw new InvalidArgumentError(`--env takes ${ENV_TYPES.join(', ')} or *; got "${v}"`);
  }
  return [...(previous ?? []), ...value.split(',').map((x) => x.trim()).filter(Boolean)];
}

const envs = (b: RoleBinding) => (b.environmentTypes === '*' ? '*' : b.environmentTypes.join(','));

function bindingsTable(items: RoleBinding[]): string {
  return table(['ID', 'SUBJECT', 'ROLE', 'TEAM', 'ENVIRONMENTS', 'SOURCE', 'CREATED BY'], items.map((b) => [b.id ?? '-', b.subject, b.role, b.team, envs(b), b.source, b.createdBy ?? '-']));
}

export function accessCommand(): Command {
  const group = new Command('access').description('Role bindings: who may do what, for which teams and environment types (admins)');

  withOutput(
    group
      .command('bind')
      .argument('<subject>', 'a user (alice, user:alice) or, with --group, a team whose members are bound (sre, team:sre)')
      .addArgument(new Argument('<role>', 'the role').choices(ROLES))
      .description('Bind a user or a team\'s members to a role, e.g. "pave access bind alice deployer --team payments --env production"')
      .option('--group', 'the subject is a team: bind every member of it')
      .option('--team <team>', 'the team whose applications it covers (default: every team, *)', '*')
      .option('--env <types>', `environment types (${ENV_TYPES.join(', ')}; repeatable or comma-separated; default: all)`, envType),
  ).action(async (subject: string, role: string, o: OutputOpts & { group?: boolean; team: string; env?: string[] }, cmd: Command) => {
    const environmentTypes = !o.env || o.env.includes('*') ? '*' : [...new Set(o.env)];
    const b = await clientFor(cmd).json<RoleBinding>('POST', '/api/v1/role-bindings', { body: { subject: subjectOf(subject, o.group ?? false), role, team: o.team, environmentTypes } });
    await render(o.output, b, () => `Bound ${b.subject} as ${b.role} for ${b.team === '*' ? 'every team' : b.team} in ${envs(b) === '*' ? 'every environment type' : envs(b)} (${b.id})`);
  });

  withOutput(
    group
      .command('unbind')
      .argument('[id]', 'binding id (see "pave access list")')
      .description('Remove a role binding, by id or by subject, role and team')
      .option('--subject <subject>', 'instead of an id: the subject (alice, user:alice, team:sre)')
      .addOption(new Option('--role <role>', 'with --subject: the role').choices(ROLES))
      .option('--team <team>', 'with --subject: the team (default *)', '*')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (id: string | undefined, o: OutputOpts & { subject?: string; role?: string; team: string; yes?: boolean }, cmd: Command) => {
    const client = clientFor(cmd);
    if (!id) {
      if (!o.subject || !o.role) throw new CliError('name the binding: its id, or --subject and --role (and --team)', 2);
      const { items } = await client.json<{ items: RoleBinding[] }>('GET', '/api/v1/role-bindings', { query: { subject: subjectOf(o.subject, false), role: o.role, team: o.team } });
      if (items.length === 0) throw new CliError(`no binding of ${o.subject} as ${o.role} for ${o.team}`, 1);
      id = items[0]!.id!;
    }
    await confirmOrRefuse(o.yes ?? !process.stdin.isTTY, `Remove role binding ${id}?`);
    const b = await client.json<RoleBinding>('DELETE', `/api/v1/role-bindings/${encodeURIComponent(id)}`);
    await render(o.output, b, () => `Removed: ${b.subject} is no longer ${b.role} for ${b.team === '*' ? 'every team' : b.team}`);
  });

  withOutput(
    group
      .command('list')
      .alias('ls')
      .description('List role bindings; with --user, that user\'s effective ones (their own, their teams\', team membership)')
      .option('--subject <subject>', 'only bindings of this subject (alice, user:alice, team:sre)')
      .option('--team <team>', 'only bindings for this team (or *)')
      .addOption(new Option('--role <role>', 'only this role').choices(ROLES))
      .option('--user <user>', 'the effective bindings of this user'),
  ).action(async (o: OutputOpts & { subject?: string; team?: string; role?: string; user?: string }, cmd: Command) => {
    const query = o.user ? { user: o.user } : { subject: o.subject ? subjectOf(o.subject, false) : undefined, team: o.team, role: o.role };
    const { items } = await clientFor(cmd).json<{ items: RoleBinding[] }>('GET', '/api/v1/role-bindings', { query });
    await render(o.output, { items }, () => bindingsTable(items));
  });

  return group;
}
