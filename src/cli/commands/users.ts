import { Command } from 'commander';
import { readSecrets } from '../signin.ts';
import { CliError, render } from '../output.ts';
import { entityCommand } from './entity.ts';
import { clientFor, collect, compact, withOutput, type OutputOpts } from './shared.ts';

interface UserOpts {
  displayName?: string;
  email?: string;
  memberOf?: string[];
}

/** `pave users …`: people in the catalog (and the accounts tokens act as), and local users' passwords. */
export const usersCommand = () => userEntities().addCommand(setPasswordCommand());

/**
 * `pave users set-password <name>`: admins set anyone's password; users change their own with
 * `--current` (asked for first). Passwords are read without echo on a terminal, else one per line from stdin.
 */
function setPasswordCommand(): Command {
  return withOutput(
    new Command('set-password')
      .argument('<name>', 'user name')
      .description("Set a local user's password (admins: anyone's; users: their own, with --current)")
      .option('-n, --namespace <namespace>', 'namespace', 'default')
      .option('--current', 'give the current password first (needed to change your own, unless you are an admin)'),
  ).action(async (name: string, o: OutputOpts & { namespace: string; current?: boolean }, cmd: Command) => {
    const client = clientFor(cmd);
    const secrets = await readSecrets(o.current ? ['Current password', 'New password'] : ['New password']);
    const password = secrets[secrets.length - 1]!;
    if (password.length < 12) throw new CliError('the new password must be at least 12 characters', 2);
    await client.send('PUT', `/api/v1/users/${encodeURIComponent(name)}/password`, { query: { namespace: o.namespace }, body: { password, ...(o.current ? { currentPassword: secrets[0] } : {}) } });
    await render(o.output, { user: `user:${o.namespace}/${name}`, passwordSet: true }, () => `Password of user:${o.namespace}/${name} set; their other sessions were ended.`);
  });
}

const userEntities = () =>
  entityCommand<'users', UserOpts>({
    command: 'users',
    path: 'users',
    kind: 'user',
    noun: 'user',
    plural: 'users',
    options: (cmd: Command) =>
      cmd
        .option('--display-name <name>', 'display name')
        .option('--email <email>', 'email address')
        .option('--member-of <team>', 'team the user belongs to: name or ref (repeatable)', collect),
    body: (o) => compact({ displayName: o.displayName, email: o.email, memberOf: o.memberOf }),
  });
