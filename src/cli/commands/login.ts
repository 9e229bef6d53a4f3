import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import type { Me } from '../../contracts/access.ts';
import { PaveClient } from '../client.ts';
import { configFile, contextNameFor, loadConfig, normaliseUrl, resolveConnection, saveConfig, tokenPrefix } from '../config.ts';
import { CliError, fields, render, table } from '../output.ts';
import { withOutput, type OutputOpts } from './shared.ts';

/** `pave login`, `pave context list|use|delete` and `pave whoami`. Tokens are never printed, only their prefix. */

export function loginCommand(): Command {
  return withOutput(
    new Command('login')
      .description('Verify a token against a server and save both as a context (then the current one)')
      .option('--url <url>', 'server URL, e.g. http://localhost:8080 (default $PAVE_URL)')
      .option('--token <token>', 'API token; "-" reads it from stdin (default $PAVE_TOKEN)')
      .addHelpText('after', '\nThe context is named by the global --context option, or after the server host.'),
  ).action(async (o: OutputOpts & { url?: string; token?: string }, cmd: Command) => {
    const { me, ...out } = await signIn(o, cmd);
    await render(o.output, out, () => `Logged in to ${out.url} as ${me.user.ref} (token ${out.token}); context "${out.context}" is now current.`);
  });
}

/**
 * Verifies `--url`/`--token` (or $PAVE_URL/$PAVE_TOKEN; `--token -` reads stdin) and saves them as the
 * context named by the global --context option, or after the server host, which becomes current.
 * `pave login` and `pave init` sign in with it.
 */
export async function signIn(o: { url?: string; token?: string }, cmd: Command): Promise<{ me: Me; context: string; url: string; user: string; token: string; roles: string[] }> {
  const rawUrl = o.url ?? process.env.PAVE_URL;
  if (!rawUrl) throw new CliError('--url is required (or set PAVE_URL)', 2);
  let token = o.token ?? process.env.PAVE_TOKEN;
  if (token === '-') token = (await text(process.stdin)).trim();
  if (!token) throw new CliError('--token is required (or set PAVE_TOKEN, or pass --token - and the token on stdin)', 2);
  const url = normaliseUrl(rawUrl, o.url ? '--url' : 'PAVE_URL');
  const me = await new PaveClient(url, token).me();
  const name = cmd.optsWithGlobals<{ context?: string }>().context ?? contextNameFor(url);
  const config = loadConfig();
  config.contexts[name] = { url, token, user: me.user.ref };
  config.current = name;
  saveConfig(config);
  return { me, context: name, url, user: me.user.ref, token: tokenPrefix(token), roles: me.roles };
}

export function contextCommand(): Command {
  const group = new Command('context').alias('contexts').description('Manage saved contexts (server URL + token)');

  withOutput(group.command('list').alias('ls').description('List saved contexts')).action(async (o: OutputOpts) => {
    const config = loadConfig();
    const items = Object.entries(config.contexts).map(([name, c]) => ({
      name, current: name === config.current, url: c.url, user: c.user ?? null, token: tokenPrefix(c.token),
    }));
    await render(o.output, { current: config.current ?? null, items }, () =>
      items.length
        ? table(['CURRENT', 'NAME', 'URL', 'USER', 'TOKEN'], items.map((c) => [c.current ? '*' : '', c.name, c.url, c.user, c.token]))
        : `No contexts in ${configFile()}; add one with "pave login".`,
    );
  });

  withOutput(group.command('use').argument('<name>').description('Make a context the current one')).action(async (name: string, o: OutputOpts) => {
    const config = loadConfig();
    if (!config.contexts[name]) throw new CliError(`no context named "${name}"; see "pave context list"`);
    config.current = name;
    saveConfig(config);
    await render(o.output, { current: name }, () => `Switched to context "${name}" (${config.contexts[name]!.url}).`);
  });

  withOutput(group.command('delete').alias('rm').argument('<name>').description('Forget a context and its token')).action(async (name: string, o: OutputOpts) => {
    const config = loadConfig();
    if (!config.contexts[name]) throw new CliError(`no context named "${name}"; see "pave context list"`);
    delete config.contexts[name];
    if (config.current === name) delete config.current;
    saveConfig(config);
    await render(o.output, { deleted: name }, () => `Deleted context "${name}".`);
  });

  return group;
}

export function whoamiCommand(): Command {
  return withOutput(new Command('whoami').description('Show the user, roles and teams of the current token')).action(async (o: OutputOpts, cmd: Command) => {
    const conn = resolveConnection(cmd.optsWithGlobals<{ context?: string }>().context);
    const client = new PaveClient(conn.url, conn.token);
    const me = await client.me();
    await render(o.output, { ...me, server: client.baseUrl, context: conn.context ?? null }, () =>
      fields([
        ['User', me.user.ref],
        ['Name', me.user.title],
        ['Email', me.user.email],
        ['Roles', me.roles.join(', ') || '(none)'],
        ['Teams', me.teams.join(', ') || '(none)'],
        ['Token', `${me.token.name} (${me.token.expiresAt ? `expires ${me.token.expiresAt}` : 'does not expire'})`],
        ['Server', client.baseUrl],
        ['Context', conn.context ?? '(none: PAVE_URL and PAVE_TOKEN)'],
      ]),
    );
  });
}
