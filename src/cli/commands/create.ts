import { statSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { ApplicationCreate, Entity } from '../../contracts/catalog.ts';
import type { ApplyResultView, PatternSummary, Resource } from '../../contracts/golden.ts';
import { ApiError } from '../client.ts';
import { detectStacks, gitRemote, repositoryUrl, sanitiseName, type Stack } from '../detect.ts';
import type { AddOnRequest, TeamProfile } from '../golden-client.ts';
import { parseInputs, parseInputValue, type InputField } from '../inputs.ts';
import { CliError, info, render } from '../output.ts';
import { resourceTable } from '../progress.ts';
import { shortRef } from '../render.ts';
import { appLabel, applyWithProgress, goldenFor, reportFailures } from './golden-shared.ts';
import { teamNameOf } from './init.ts';
import { collect, compact, positiveInt, withOutput, type OutputOpts } from './shared.ts';
import { deployFor } from './deploy.ts';

/**
 * `pave create [NAME]`, run in a source folder: the second of the two commands. Names the application
 * after the folder, links its git repository, detects its stack, takes the team's default template with
 * the given overrides, registers the application and provisions its development environment.
 */

interface CreateOpts extends OutputOpts {
  dir?: string;
  team?: string;
  template?: string;
  templateVersion?: string;
  port?: number;
  size?: string;
  healthPath?: string;
  memory?: string;
  runtime?: string;
  input?: string[];
  addon?: string[];
  title?: string;
  description?: string;
  apply: boolean;
}

const ENV = 'development';
const KNOWN_STACKS = ['node', 'go', 'java', 'python'];

export function createCommand(): Command {
  return withOutput(
    new Command('create')
      .argument('[name]', 'application name (default: the folder name, lower-cased, other characters as "-")')
      .description("Register the application in this folder from its team's golden path, and provision its development environment")
      .option('-C, --dir <folder>', 'the source folder (default: the current one)')
      .option('--team <team>', 'owning team (default: your only team)')
      .option('--template <name>', "template (default: the team profile's default template)")
      .option('--template-version <version>', 'template version or semver range (default: the latest)')
      .option('--port <n>', 'the port the service listens on (template input "port")', positiveInt('--port', 65535))
      .option('--size <size>', 'size (template input "size")')
      .option('--health-path <path>', 'health check path (template input "healthPath")')
      .option('--memory <memory>', 'memory (recorded only if the template has such an input)')
      .addOption(new Option('--runtime <runtime>', "where the application's deployments run, over the team profile's runtime for each environment type (a cluster's settings come from the profile)").choices(['local', 'kubernetes', 'gitops']))
      .option('--input <key=value>', 'any template input; numbers, booleans and lists are parsed by its type (repeatable)', collect)
      .option('--addon <addon[@version][:instance]>', 'attach an add-on, e.g. postgres or postgres:db (repeatable)', collect)
      .option('--title <title>', 'display title')
      .option('--description <text>', 'description')
      .option('--no-apply', 'register only; provision later with "pave resources apply"')
      .addHelpText(
        'after',
        `
Detected from the folder: its name, the git remote "origin" (linked as the repository), and the stack
(package.json → node, go.mod → go, pom.xml / build.gradle → java, requirements.txt / pyproject.toml → python).
Exit code 1 when the application is rejected or a resource fails to provision.`,
      ),
  ).action(async (nameArg: string | undefined, o: CreateOpts, cmd: Command) => {
    const dir = path.resolve(o.dir ?? process.cwd());
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${dir} is not a folder`, 2);
    const name = nameArg ?? sanitiseName(path.basename(dir));
    if (!name) throw new CliError(`cannot make an application name of the folder name "${path.basename(dir)}"; give one: pave create NAME`, 2);

    const stacks = detectStacks(dir);
    const remote = await gitRemote(dir);
    const repository = remote ? repositoryUrl(remote) : null;
    info(stacks.length ? `Detected ${stacks.map((s) => `${s.stack} (${s.file})`).join(', ')} in ${dir}` : `No stack detected in ${dir} (looked for package.json, go.mod, pom.xml, build.gradle, requirements.txt, pyproject.toml)`);
    if (repository) info(`Repository: ${repository} (git remote origin)`);
    else if (remote) info(`note: the git remote origin (${remote.replace(/\/\/[^/@]*@/, '//')}) has no web address; no repository link is added`);

    const golden = goldenFor(cmd);
    const team = o.team ?? (await onlyTeam(golden.me()));
    const profile = await golden.profile(teamNameOf(team));
    const templateName = o.template ?? profile.defaultTemplate;
    if (!templateName) throw new CliError(`the profile of team ${teamNameOf(team)} names no default template; choose one with --template (see "pave platform templates")`, 2);
    const template = await golden.pattern('templates', templateName, o.templateVersion);
    stackNote(template, stacks);

    // --runtime is the application's runtime target; a template that declares a "runtime" input gets it too, when the input allows it
    const runtimeInput = template.fields.find((f) => norm(f.name) === 'runtime');
    const { inputs, notes } = templateInputs(template, { ...o, runtime: runtimeInput && (!runtimeInput.enum || runtimeInput.enum.includes(o.runtime)) ? o.runtime : undefined }, profile);
    for (const n of notes) info(`note: ${n}`);
    const addons = (o.addon ?? []).map(parseAddon);

    const body: ApplicationCreate = compact({
      name,
      owner: team,
      template: template.name,
      templateVersion: template.version,
      inputs: Object.keys(inputs).length ? inputs : undefined,
      addons: addons.length ? addons : undefined,
      links: repository ? [{ url: repository, title: 'Repository' }] : undefined,
      title: o.title,
      description: o.description,
      runtime: o.runtime as ApplicationCreate['runtime'],
    });
    let application: Entity;
    try {
      application = await golden.createApplication(body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) info(`hint: to provision an existing application again, run "pave resources apply ${name} --env ${ENV}"`);
      throw err;
    }
    const app = { name: application.name, namespace: application.namespace };
    info(`Registered ${application.ref} from ${template.name} ${template.version}, owned by ${shortRef(application.owner, 'team') ?? team}.`);
    // where its deployments go: the runtime (and cluster) of its first environment
    const target = (await deployFor(cmd).status(app, ENV).catch(() => null))?.target ?? null;
    if (target) {
      info(`Runtime in ${ENV}: ${target.runtime} (${target.source === 'application' ? 'set with --runtime' : `from the ${target.source}`})${target.cluster ? `, cluster ${target.cluster}${target.location ? ` (${target.location})` : ''}` : ''}.`);
      if (target.problem) info(`warning: deployments to ${ENV} will be refused until a platform engineer fixes the team profile: ${target.problem.path}: ${target.problem.message}`);
    }

    let result: ApplyResultView | null = null;
    let resources: Resource[] = [];
    if (o.apply) {
      result = await applyWithProgress(golden, app, ENV);
      resources = (await golden.resources(app, ENV)).items;
    }
    const out = {
      application,
      detected: { stacks, repository },
      template: { name: template.name, version: template.version },
      inputs,
      environment: ENV,
      runtime: target,
      apply: result,
      resources,
    };
    await render(o.output, out, () => {
      const lines = [`Created ${appLabel(app)} (${template.name} ${template.version}, team ${shortRef(application.owner, 'team') ?? team})`];
      if (!result) lines.push(`Not provisioned (--no-apply); run "pave resources apply ${appLabel(app)} --env ${ENV}" when ready.`);
      else if (resources.length === 0) lines.push(`Its ${ENV} environment needs no resources; attach one with "pave apps addons add ${appLabel(app)} postgres".`);
      else lines.push('', `Resources in ${ENV}:`, resourceTable(resources));
      return lines.join('\n');
    });
    if (result) reportFailures(result);
  });
}

/** The user's only team, or an error that says what to do. */
async function onlyTeam(me: Promise<{ user: { name: string }; teams: string[] }>): Promise<string> {
  const { user, teams } = await me;
  if (teams.length === 1) return teams[0]!;
  if (teams.length === 0) throw new CliError(`you are not a member of any team, and a team owns every application: join one, or create one with "pave teams create my-team --member ${user.name}" (see "pave init"), or pass --team`, 2);
  throw new CliError(`you are in several teams; choose the owner with --team: ${teams.map((t) => shortRef(t, 'team')).join(', ')}`, 2);
}

const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
const fieldFor = (fields: InputField[], name: string) => fields.find((f) => norm(f.name) === norm(name));

/**
 * --input pairs, then the named flags on the inputs the template declares (--port → port, --health-path
 * → healthPath, …). --port, --size and --health-path on a template without that input are errors;
 * --memory and --runtime without one are left out with a note (runtime targets come with deployments).
 */
export function templateInputs(template: PatternSummary, o: Pick<CreateOpts, 'input' | 'port' | 'size' | 'healthPath' | 'memory' | 'runtime'>, profile?: TeamProfile): { inputs: Record<string, unknown>; notes: string[] } {
  const inputs = parseInputs(o.input, template.fields);
  const notes: string[] = [];
  const declared = template.fields.map((f) => f.name).join(', ') || 'none';
  const strict: [string, string, string | number | undefined][] = [['--port', 'port', o.port], ['--size', 'size', o.size], ['--health-path', 'healthPath', o.healthPath]];
  for (const [flag, input, value] of strict) {
    if (value === undefined) continue;
    const f = fieldFor(template.fields, input);
    if (!f) throw new CliError(`template ${template.name} ${template.version} has no input "${input}" for ${flag} (its inputs: ${declared}); use --input key=value`, 2);
    inputs[f.name] = parseInputValue(String(value), f.type, flag);
  }
  const runtimeOnly: [string, string, string | undefined][] = [['--memory', 'memory', o.memory], ['--runtime', 'runtime', o.runtime]];
  for (const [flag, input, value] of runtimeOnly) {
    if (value === undefined) continue;
    const f = fieldFor(template.fields, input);
    if (f) {
      inputs[f.name] = parseInputValue(value, f.type, flag);
      continue;
    }
    const current = profile?.environments[ENV]?.[input];
    notes.push(
      `${flag} is not recorded: template ${template.name} has no "${input}" input, and runtime targets arrive with deployments` +
        (current === undefined ? '' : ` (the team profile gives ${ENV} ${input} ${String(current)})`),
    );
  }
  return { inputs, notes };
}

/** `postgres`, `postgres:db`, `postgres@^1.0.0:db`. */
export function parseAddon(value: string): AddOnRequest {
  const m = /^([^@:\s]+)(?:@([^:\s]+))?(?::([^:@\s]+))?$/.exec(value);
  if (!m) throw new CliError(`--addon takes ADDON[@VERSION][:INSTANCE], e.g. postgres or postgres:db; got "${value}"`, 2);
  return compact({ addon: m[1]!, version: m[2], name: m[3] });
}

function stackNote(template: PatternSummary, stacks: Stack[]): void {
  const tagged = template.tags.filter((t) => KNOWN_STACKS.includes(t));
  if (!stacks.length || !tagged.length || stacks.some((s) => tagged.includes(s.stack))) return;
  info(`note: template ${template.name} is for ${tagged.join('/')}, but this folder looks like ${stacks.map((s) => s.stack).join('/')}; choose another with --template (see "pave platform templates")`);
}
