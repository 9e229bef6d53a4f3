import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import type { Me } from '../../contracts/access.ts';
import { PaveClient } from '../client.ts';
import { configFile, contextNameFor, loadConfig, normaliseUrl, resolveConnection, saveConfig, tokenPrefix } from '../config.ts';
import { CliError, fields, render, table } from '../output.ts';
import { browserToken, deviceToken, passwordToken, providers, readSecrets } from '../signin.ts';
import { withOutput, type OutputOpts } from './shared.ts';

/** `pave login` (token, password or identity provider), `pave context list|use|delete` and `pave whoami`. Tokens are never printed, only their prefix. */

export function loginCommand(): Command {
  return withOutput(
    new Command('login')
      .description('Sign in to a server and save it as a context (then the current one): with an API token, a password, or the identity provider')
      .option('--url <url>', 'server URL, e.g. http://localhost:8080 (default $PAVE_URL)')
      .option('--token <token>', 'API token; "-" reads it from stdin (default $PAVE_TOKEN)')
      .option('--user <name>', 'sign in as a local user with a password (read from stdin, or asked for on a terminal); the server issues an API token')
      .option('--oidc', "sign in with the server's identity provider: the device flow when the provider offers it, else the browser")
      .option('--browser', 'with --oidc: sign in in the browser (loopback redirect) even when the device flow is offered')
      .option('--no-open', 'do not open a browser; only print the URL to open')
      .addHelpText(
        'after',
        `
Without --token, --user or --oidc (and no $PAVE_TOKEN), pave login signs in with the identity provider when the server has one.
Tokens issued by a password or identity provider sign-in are named cli-<date>-<random> and expire after 90 days.
The context is named by the global --context option, or after the server host.`,
      ),
  ).action(async (o: OutputOpts & LoginOpts, cmd: Command) => {
    const { me, ...out } = await signIn(o, cmd);
    await render(o.output, out, () => `Logged in to ${out.url} as ${me.user.ref} (token ${out.token}); context "${out.context}" is now current.`);
  });
}

interface LoginOpts {
  url?: string;
  token?: string;
  user?: string;
  oidc?: boolean;
  browser?: boolean;
  open?: boolean;
}

/**
 * Signs in and saves the server and token as the context named by the global --context option, or
 * after the server host, which becomes current: with `--token` (or $PAVE_TOKEN; `--token -` reads
 * stdin), with `--user` and a password, or with the identity provider (`--oidc`, or by default when
 * the server has one). `pave login` and `pave init` sign in with it.
 */
export async function signIn(o: LoginOpts, cmd: Command): Promise<{ me: Me; context: string; url: string; user: string; token: string; roles: string[] }> {
  const rawUrl = o.url ?? process.env.PAVE_URL;
  if (!rawUrl) throw new CliError('--url is required (or set PAVE_URL)', 2);
  const url = normaliseUrl(rawUrl, o.url ? '--url' : 'PAVE_URL');
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  let token = o.token ?? (o.user || o.oidc ? undefined : process.env.PAVE_TOKEN);
  if (token === '-') token = (await text(process.stdin)).trim();
  if (!token && o.user) {
    token = (await passwordToken(url, o.user, (await readSecrets(['Password']))[0]!)).token;
  } else if (!token) {
    const offered = await providers(url).catch(() => undefined);
    if (!offered?.oidc) {
      if (o.oidc) throw new CliError(`${url} has no identity provider configured; sign in with --token or --user`, 2);
      throw new CliError('--token is required (or set PAVE_TOKEN, or pass --token - and the token on stdin; or --user for a password)', 2);
    }
    progress(`Signing in with ${offered.oidc.name}.`);
    const open = o.open !== false;
    const got = offered.oidc.deviceFlow && !o.browser ? await deviceToken(url, { open, progress }) : await browserToken(url, { open, progress });
    token = got.token.token;
  }
  if (!token) throw new CliError('--token is required (or set PAVE_TOKEN, or pass --token - and the token on stdin)', 2);
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
