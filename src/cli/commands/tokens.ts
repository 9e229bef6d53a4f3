import { Command } from 'commander';
import { info, render, table } from '../output.ts';
import type { CreatedToken } from '../client.ts';
import { clientFor, collect, confirmOrRefuse, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/** `pave tokens list|create|revoke`: the caller's API tokens. Secrets are shown once, at creation. */
export function tokensCommand(): Command {
  const group = new Command('tokens').description('Manage your API tokens');

  withOutput(group.command('list').alias('ls').description('List your API tokens (never their secrets)')).action(async (o: OutputOpts, cmd: Command) => {
    const { items } = await clientFor(cmd).listTokens();
    await render(o.output, { items }, () =>
      table(
        ['ID', 'NAME', 'PREFIX', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS', 'SCOPES'],
        items.map((t) => [t.id, t.name, t.prefix, t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt, status(t), scopes(t)]),
      ),
    );
  });

  withOutput(
    group
      .command('create')
      .argument('<name>', 'a name for the token, unique among yours, e.g. "ci"')
      .description('Create an API token; its secret is printed once, on stdout')
      .option('--expires-in-days <n>', 'days until it expires (default: never)', positiveInt('--expires-in-days', 3650))
      .option('--permission <permission>', 'limit it to this permission, e.g. deploy (repeatable; default: all of yours)', collect)
      .option('--team <team>', 'limit it to this team\'s applications (repeatable; default: all of yours)', collect),
  ).action(async (name: string, o: OutputOpts & { expiresInDays?: number; permission?: string[]; team?: string[] }, cmd: Command) => {
    const client = clientFor(cmd);
    const t = o.permission || o.team
      ? await client.json<CreatedToken>('POST', '/api/v1/tokens', { body: { name, ...(o.expiresInDays === undefined ? {} : { expiresInDays: o.expiresInDays }), ...(o.permission ? { permissions: o.permission } : {}), ...(o.team ? { teams: o.team } : {}) } })
      : await client.createToken(name, o.expiresInDays);
    await render(o.output, t, () => {
      info(`Created token "${t.name}" (${t.id}), ${t.expiresAt ? `expires ${t.expiresAt}` : 'does not expire'}. Its secret is shown only this once:`);
      return t.token;
    });
  });

  withOutput(
    group.command('revoke').argument('<id>', 'token id (see "pave tokens list")').description('Revoke an API token').option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (id: string, o: OutputOpts & { yes?: boolean }, cmd: Command) => {
    await confirmOrRefuse(o.yes ?? !process.stdin.isTTY, `Revoke token ${id}?`);
    const t = await clientFor(cmd).revokeToken(id);
    await render(o.output, t, () => `Revoked token "${t.name}" (${t.id})`);
  });

  return group;
}

function scopes(t: { permissions?: string[] | null; teams?: string[] | null }): string {
  const parts = [t.permissions ? t.permissions.join(',') : '', t.teams ? t.teams.join(',') : ''].filter(Boolean);
  return parts.length ? parts.join(' for ') : 'all';
}

function status(t: { revokedAt: string | null; expiresAt: string | null }): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}
