import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { accessCommand } from './commands/access.ts';
import { actionsCommand, runCommand } from './commands/actions.ts';
import { appAddonsCommand } from './commands/addons.ts';
import { appsCommand } from './commands/apps.ts';
import { auditCommand } from './commands/audit.ts';
import { artifactsCommand, buildCommand, buildsCommand } from './commands/build.ts';
import { catalogCommand } from './commands/catalog.ts';
import { configCommand } from './commands/config.ts';
import { createCommand } from './commands/create.ts';
import { deployCommands, deploymentsCommand } from './commands/deploy.ts';
import { envsCommand } from './commands/envs.ts';
import { fleetCommand } from './commands/fleet.ts';
import { initCommand } from './commands/init.ts';
import { jobsCommand, serversCommand } from './commands/jobs.ts';
import { contextCommand, loginCommand, whoamiCommand } from './commands/login.ts';
import { logsCommand } from './commands/logs.ts';
import { metricsCommand } from './commands/metrics.ts';
import { platformCommand } from './commands/platform.ts';
import { policyCommand } from './commands/policy.ts';
import { renderCommand } from './commands/render.ts';
import { runtimeCommand } from './commands/runtime.ts';
import { resourcesCommand } from './commands/resources.ts';
import { runsCommand } from './commands/runs.ts';
import { teamsCommand } from './commands/teams.ts';
import { tokensCommand } from './commands/tokens.ts';
import { usersCommand } from './commands/users.ts';
import { describeError, exitCodeOf } from './output.ts';

/** `pave`: the command-line face of the Pave API. This file only wires the command groups together. */

const program = new Command('pave')
  .description('Pave, the internal developer platform, from the command line')
  .version(VERSION, '-V', 'output the version number (also --version, before any command)')
  .option('--context <name>', 'saved context to use (default: $PAVE_CONTEXT, or the current one)')
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Environment:
  PAVE_URL, PAVE_TOKEN  server and token, overriding the context's (both together need no login, e.g. in CI)
  PAVE_CONTEXT          context to use instead of the current one
  PAVE_CONFIG_DIR       where contexts are kept (default $XDG_CONFIG_HOME/pave or ~/.config/pave)
  PAVE_DEBUG            print stack traces of errors`,
  );

program.addCommand(loginCommand());
program.addCommand(initCommand());
program.addCommand(createCommand());
program.addCommand(contextCommand());
program.addCommand(whoamiCommand());
program.addCommand(teamsCommand());
program.addCommand(usersCommand());
program.addCommand(appsCommand().addCommand(appAddonsCommand()));
program.addCommand(envsCommand());
program.addCommand(resourcesCommand());
program.addCommand(buildCommand());
program.addCommand(buildsCommand());
program.addCommand(artifactsCommand());
for (const cmd of deployCommands()) program.addCommand(cmd);
program.addCommand(deploymentsCommand());
program.addCommand(renderCommand());
program.addCommand(runtimeCommand());
program.addCommand(configCommand());
program.addCommand(logsCommand());
program.addCommand(actionsCommand());
program.addCommand(runCommand());
program.addCommand(runsCommand());
program.addCommand(auditCommand());
program.addCommand(metricsCommand());
program.addCommand(platformCommand());
program.addCommand(policyCommand());
program.addCommand(catalogCommand());
program.addCommand(tokensCommand());
program.addCommand(accessCommand());
program.addCommand(fleetCommand());
program.addCommand(jobsCommand());
program.addCommand(serversCommand());

/** Groups are built on their own; give every subcommand the program's help and error settings. */
(function inherit(cmd: Command) {
  for (const sub of cmd.commands) {
    sub.copyInheritedSettings(cmd);
    inherit(sub);
  }
})(program);

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

/**
 * `--version` is also an option of subcommands (`pave platform templates show X --version 1.2.0`), so the
 * program only takes it as its own before any command word; there it means -V.
 */
function programArgs(argv: string[]): string[] {
  const args = [...argv];
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--version') args[i] = '-V';
    else if (arg === '--context') i++;
    else if (arg === '--' || !arg.startsWith('-')) break;
  }
  return args;
}

try {
  await program.parseAsync(programArgs(process.argv));
} catch (err) {
  for (const line of describeError(err)) process.stderr.write(line + '\n');
  if (process.env.PAVE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = exitCodeOf(err);
}
