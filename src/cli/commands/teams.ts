import type { Command } from 'commander';
import { entityCommand } from './entity.ts';
import { collect, compact } from './shared.ts';

interface TeamOpts {
  type?: string;
  member?: string[];
  parent?: string;
  email?: string;
}

/** `pave teams …`: groups of users that own applications. */
export const teamsCommand = () =>
  entityCommand<'teams', TeamOpts>({
    command: 'teams',
    path: 'teams',
    kind: 'team',
    noun: 'team',
    plural: 'teams',
    options: (cmd: Command) =>
      cmd
        .option('--type <type>', 'team, department, organization, … (default team)')
        .option('--member <user>', 'member: user name or ref (repeatable)', collect)
        .option('--parent <team>', 'parent team: name or ref')
        .option('--email <email>', 'team email address'),
    body: (o) => compact({ type: o.type, members: o.member, parent: o.parent, email: o.email }),
  });
