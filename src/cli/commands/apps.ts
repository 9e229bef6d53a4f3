import type { Command } from 'commander';
import { entityCommand, type Mode } from './entity.ts';
import { collect, compact } from './shared.ts';

interface AppOpts {
  owner?: string;
  type?: string;
  lifecycle?: string;
  system?: string;
  dependsOn?: string[];
  providesApi?: string[];
  consumesApi?: string[];
}

/** `pave apps …`: applications, owned by a team. */
export const appsCommand = () =>
  entityCommand<'applications', AppOpts>({
    command: 'apps',
    path: 'applications',
    kind: 'application',
    noun: 'application',
    plural: 'applications',
    options: (cmd: Command, mode: Mode) => {
      const owner = ['--owner <team>', 'owning team: name or ref'] as const;
      if (mode === 'create') cmd.requiredOption(...owner);
      else cmd.option(...owner);
      cmd
        .option('--type <type>', 'service, website, library, … (default service)')
        .option('--lifecycle <lifecycle>', 'experimental, production, deprecated, … (default experimental)')
        .option('--system <system>', 'system it is part of: name or ref')
        .option('--depends-on <ref>', 'entity it depends on, e.g. resource:db (repeatable)', collect)
        .option('--provides-api <api>', 'API it provides (repeatable)', collect)
        .option('--consumes-api <api>', 'API it consumes (repeatable)', collect);
    },
    body: (o) =>
      compact({
        owner: o.owner, type: o.type, lifecycle: o.lifecycle, system: o.system,
        dependsOn: o.dependsOn, providesApis: o.providesApi, consumesApis: o.consumesApi,
      }),
  });
