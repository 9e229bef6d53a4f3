import type { Command } from 'commander';
import { entityCommand } from './entity.ts';
import { collect, compact } from './shared.ts';

interface UserOpts {
  displayName?: string;
  email?: string;
  memberOf?: string[];
}

/** `pave users …`: people in the catalog (and the accounts tokens act as). */
export const usersCommand = () =>
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
