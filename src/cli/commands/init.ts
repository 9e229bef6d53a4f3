import { Command } from 'commander';
import type { EnvironmentDefaults, TeamProfile } from '../golden-client.ts';
import { fields, render, table, type Cell } from '../output.ts';
import { shortRef } from '../render.ts';
import { goldenFor } from './golden-shared.ts';
import { signIn } from './login.ts';
import { withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave init`: the first of the two commands from a repository to a running application. Signs in when
 * given a server and token, then shows who you are, your teams, and the defaults each team's profile
 * gives its applications per environment type (what `pave create` will use).
 */

const ENV_ORDER = ['development', 'staging', 'production', 'preview'];

export const teamNameOf = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

export function initCommand(): Command {
  return withOutput(
    new Command('init')
      .description("Sign in (with --url and --token), then show your user, your teams and their profiles' defaults")
      .option('--url <url>', 'server URL to sign in to, e.g. http://localhost:8080 (default: the current context)')
      .option('--token <token>', 'API token; "-" reads it from stdin')
      .addHelpText('after', '\nWithout --url and --token it uses the current context (or $PAVE_URL and $PAVE_TOKEN). Next: "pave create" in your repository.'),
  ).action(async (o: OutputOpts & { url?: string; token?: string }, cmd: Command) => {
    const session = o.url !== undefined || o.token !== undefined ? await signIn(o, cmd) : undefined;
    const golden = goldenFor(cmd);
    const me = session?.me ?? (await golden.me());
    const teams = await Promise.all(me.teams.map(async (ref) => ({ ref, profile: await golden.profile(teamNameOf(ref)) })));
    const out = {
      ...(session ? { signedIn: { context: session.context, url: session.url, token: session.token } } : {}),
      user: me.user,
      roles: me.roles,
      teams,
    };
    await render(o.output, out, () => {
      const lines: string[] = [];
      if (session) lines.push(`Signed in to ${session.url} as ${me.user.ref} (token ${session.token}); context "${session.context}" is now current.`, '');
      lines.push(
        fields([
          ['User', `${me.user.ref}${me.user.title ? ` (${me.user.title})` : ''}`],
          ['Roles', me.roles.join(', ') || '(none)'],
          ['Teams', teams.map((t) => shortRef(t.ref, 'team')).join(', ') || '(none)'],
        ]),
      );
      for (const t of teams) lines.push('', ...profileLines(t.ref, t.profile));
      lines.push('', ...nextSteps(me.user.name, teams));
      return lines.join('\n');
    });
  });
}

function profileLines(ref: string, p: TeamProfile): string[] {
  const envs = Object.keys(p.environments).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const rows = envs.map((name): [string, EnvironmentDefaults] => [name, p.environments[name]!]);
  const has = (k: string) => rows.some(([, d]) => d[k] !== undefined);
  const optional: [string, string][] = [['region', 'REGION'], ['port', 'PORT'], ['registry', 'REGISTRY']];
  const extra = optional.filter(([k]) => has(k));
  const envTable = rows.length
    ? table(
        ['ENVIRONMENT TYPE', 'RUNTIME', 'REPLICAS', 'CPU', 'MEMORY', ...extra.map(([, h]) => h), 'HEALTH PATH'],
        rows.map(([name, d]) => [name, d.runtime, d.replicas, d.cpu, d.memory, ...extra.map(([k]) => d[k] as Cell), d.healthPath]),
      )
    : '(no environment defaults)';
  return [
    `Team ${shortRef(ref, 'team')} (profile ${p.profiles.join(' over ') || 'none'})`,
    `  Default template: ${p.defaultTemplate ?? '(none: pass --template to "pave create")'}`,
    ...envTable.split('\n').map((l) => `  ${l}`),
  ];
}

const rank = (env: string) => {
  const i = ENV_ORDER.indexOf(env);
  return i < 0 ? ENV_ORDER.length : i;
};

function nextSteps(user: string, teams: { ref: string; profile: TeamProfile }[]): string[] {
  if (teams.length === 0) {
    return [
      'You are not a member of any team yet, and every application is owned by one. Either:',
      '  - ask a team\'s maintainer (or an admin) to add you, e.g. "pave users edit ' + user + ' --member-of TEAM" (it replaces your list of teams), or',
      `  - create a team of your own: "pave teams create my-team --member ${user}"`,
      'then run "pave init" again.',
    ];
  }
  const team = teams.length === 1 ? '' : ` --team ${shortRef(teams[0]!.ref, 'team')}`;
  return [`Next: in your repository's folder, run "pave create${team}" to register the application and provision its development environment.`];
}
