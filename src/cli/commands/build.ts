import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { Command } from 'commander';
import type { Build, LogLine } from '../deploy-client.ts';
import { CliError, fields, info, render, table } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { appCommand, deployFor, ms, selector, shortDigest, when, who, type NsOpts } from './deploy.ts';
import { logWriter } from './logs.ts';
import { collect, pairs } from './shared.ts';

/**
 * `pave build`, `pave builds list|logs` and `pave artifacts register`: turning source into an artifact
 * a deployment can run. `pave build` packs a folder with the system tar and uploads it; the build log
 * streams on stderr while it runs, and a failed build exits 1.
 */

/** A build log line: Pave's own lines (`$ npm ci`, `detected: node`) flush left, command output indented under them. */
export const buildLogText = (l: LogLine) => (l.stream === 'system' ? l.line : `  ${l.line}`);

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** The folder as a .tar.gz, without node_modules and .git (the build installs dependencies itself). */
export async function pack(dir: string): Promise<Buffer> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new CliError(`${dir} is not a folder`, 2);
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-czf', '-', '--exclude=./node_modules', '--exclude=./.git', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new CliError(`cannot run tar to pack ${dir}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new CliError(`tar could not pack ${dir} (exit code ${code})${err.trim() ? `: ${err.trim()}` : ''}`))));
  });
}

const processList = (p: Record<string, string>) => Object.entries(p).map(([type, command]) => `${type}: ${command}`).join(', ');

function sourceText(s: Record<string, unknown>): string {
  const git = s.git as { url?: string; ref?: string } | undefined;
  if (typeof s.path === 'string') return s.path;
  if (git?.url) return `${git.url}${git.ref ? `#${git.ref}` : ''}`;
  if (typeof s.archive === 'string') return s.archive.startsWith('sha256:') ? `archive ${shortDigest(s.archive)}` : s.archive;
  if (typeof s.image === 'string') return s.image;
  return JSON.stringify(s);
}

export function buildText(b: Build): string {
  return fields([
    ['Build', `${b.number} (${b.status})`],
    ['Digest', b.artifact?.digest],
    ['Image', b.artifact?.image],
    ['Processes', processList(b.processes) || null],
    ['Release', b.release],
    ['Reused', b.status === 'succeeded' && b.origin === 'build' ? (b.reused ? 'yes (an earlier build of the same source)' : 'no') : null],
    ['Detected', b.detected.join(', ')],
    ['Source', sourceText(b.source)],
    ['Error', b.error],
  ]);
}

/** When a build failed: its error on stderr and exit code 1. */
function reportBuild(b: Build, app: string, output: string): void {
  if (b.status === 'failed') {
    info(`error: build ${b.number} of ${app} failed: ${b.error ?? 'no reason given'}`);
    process.exitCode = 1;
  } else if (b.status === 'succeeded' && output === 'table') {
    info(`Deploy it with "pave deploy ${app} --env <env> --build ${b.number} --release".`);
  }
}

export function buildCommand(): Command {
  return appCommand(
    new Command('build'),
    'Build the application from a source folder (packed without node_modules and .git, and uploaded), a git repository or a folder on the server; the log streams on stderr (exit code 1 when the build fails)',
    'none',
  )
    .argument('[dir]', 'source folder to pack and upload (default: the current folder)')
    .option('--git <url>', 'build from this git repository instead (the server clones it)')
    .option('--ref <ref>', 'branch, tag or commit of --git (default main)')
    .option('--server-path <path>', 'build from this folder on the server\'s machine instead')
    .action(async (arg: string, dir: string | undefined, o: NsOpts & { git?: string; ref?: string; serverPath?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const label = appLabel(app);
      if (o.git && o.serverPath) throw new CliError('give one source: --git or --server-path', 2);
      if ((o.git || o.serverPath) && dir !== undefined) throw new CliError(`give one source: the folder ${dir}, or --${o.git ? 'git' : 'server-path'}`, 2);
      if (o.ref && !o.git) throw new CliError('--ref goes with --git', 2);
      const client = deployFor(cmd);
      const onLine = (l: LogLine) => info(`  ${buildLogText(l)}`);
      let b: Build;
      if (o.git) {
        info(`Building ${label} from ${o.git}${o.ref ? ` (${o.ref})` : ''}…`);
        b = await client.build(app, { git: { url: o.git, ...(o.ref ? { ref: o.ref } : {}) } }, onLine);
      } else if (o.serverPath) {
        info(`Building ${label} from ${o.serverPath} on the server…`);
        b = await client.build(app, { path: o.serverPath }, onLine);
      } else {
        const folder = dir ?? '.';
        const archive = await pack(folder);
        info(`Building ${label} from ${folder} (${size(archive.length)} packed)…`);
        b = await client.buildArchive(app, archive, onLine);
      }
      await render(o.output, b, () => buildText(b));
      reportBuild(b, label, o.output);
    });
}

export function buildsCommand(): Command {
  const group = new Command('builds').description('Builds of an application and their logs');

  appCommand(group.command('list').alias('ls'), 'Builds of an application, newest first', 'none').action(async (arg: string, o: NsOpts, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    const { items } = await deployFor(cmd).builds(app);
    const took = (b: Build) => (b.finishedAt ? ms(Date.parse(b.finishedAt) - Date.parse(b.createdAt)) : null);
    await render(o.output, { items }, () =>
      items.length
        ? table(
            ['#', 'STATUS', 'ORIGIN', 'SOURCE', 'DIGEST', 'PROCESSES', 'REUSED', 'BY', 'CREATED', 'DURATION'],
            items.map((b) => [b.number, b.status, b.origin, sourceText(b.source), shortDigest(b.artifact?.digest), Object.keys(b.processes).join(', '), b.origin === 'build' && b.status === 'succeeded' ? (b.reused ? 'yes' : 'no') : null, who(b.createdBy), when(b.createdAt), took(b)]),
          )
        : `${appLabel(app)} has no builds yet; "pave build ${appLabel(app)}" builds the current folder.`,
    );
  });

  appCommand(group.command('show'), 'One build', 'none')
    .argument('<build>', 'build number or id', selector)
    .action(async (arg: string, build: number | string, o: NsOpts, cmd: Command) => {
      const b = await deployFor(cmd).getBuild(appRef(arg, o.namespace), build);
      await render(o.output, b, () => buildText(b));
    });

  appCommand(group.command('logs'), 'The log of a build; -f follows it until the build ends', 'none')
    .argument('<build>', 'build number or id', selector)
    .option('-f, --follow', 'keep printing new lines until the build ends')
    .action(async (arg: string, build: number | string, o: NsOpts & { follow?: boolean }, cmd: Command) => {
      const out = await logWriter(o.output);
      await deployFor(cmd).buildLogs(appRef(arg, o.namespace), build, o.follow === true, (l) => out(l, () => buildLogText(l)));
    });

  return group;
}

export function artifactsCommand(): Command {
  const group = new Command('artifacts').description('Register artifacts built elsewhere (CI) as builds');

  appCommand(group.command('register'), 'Register an image pinned by digest (--image) or an already-built .tar.gz (--archive) as a build', 'none')
    .option('--image <ref>', 'image reference pinned by digest, e.g. registry.example.com/app@sha256:<64 hex>')
    .option('--process <type=command>', 'process type of the image and its command, e.g. web="node server.js" (repeatable; default: the image\'s entrypoint as web)', collect)
    .option('--archive <file>', 'a .tar.gz with a Procfile or a package.json start script, built already')
    .action(async (arg: string, o: NsOpts & { image?: string; process?: string[]; archive?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      if (Boolean(o.image) === Boolean(o.archive)) throw new CliError('give exactly one of --image and --archive', 2);
      if (o.archive && o.process) throw new CliError('--process goes with --image (an archive names its processes in its Procfile)', 2);
      const client = deployFor(cmd);
      let b: Build;
      if (o.image) b = await client.registerImage(app, o.image, pairs(o.process, '--process'));
      else {
        const data = await readFile(o.archive!).catch((err: NodeJS.ErrnoException) => {
          throw new CliError(`cannot read ${o.archive}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 2);
        });
        b = await client.registerArchive(app, data);
      }
      info(`Registered build ${b.number} of ${appLabel(app)}.`);
      await render(o.output, b, () => buildText(b));
    });

  return group;
}
