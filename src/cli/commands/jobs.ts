import { Command, Option } from 'commander';
import type { JobDetail, JobEventView, JobPage, JobStateName, JobView, ServerList } from '../../contracts/jobs.ts';
import type { Problem } from '../../contracts/common.ts';
import { ApiError, type PaveClient } from '../client.ts';
import { ndjson } from '../golden-client.ts';
import { CliError, fields, info, render, table, write, type Format } from '../output.ts';
import { ms, when, who } from './deploy.ts';
import { clientFor, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave jobs list|show|follow` and `pave servers`: the background work of the installation (which any
 * of its servers may run, and another takes over when one dies) and the servers themselves. Listing
 * them needs audit.read (admins, platform engineers); anyone may show and follow a job they started
 * (by its whole id: the x-pave-job header of an apply).
 */

const JOB_STATES: readonly JobStateName[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const FINAL: readonly JobStateName[] = ['succeeded', 'failed', 'cancelled'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Following has no end the client knows of. */
const FOREVER_MS = 2 ** 31 - 1;
const enc = encodeURIComponent;

export const shortJob = (id: string | null | undefined) => (id ? id.slice(0, 8) : null);

/** The jobs API, typed. */
export class JobsClient {
  readonly api: PaveClient;
  constructor(api: PaveClient) {
    this.api = api;
  }

  list(q: { kind?: string | undefined; state?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {}): Promise<JobPage> {
    return this.api.json('GET', '/api/v1/jobs', { query: q });
  }

  get(id: string): Promise<JobDetail> {
    return this.api.json('GET', `/api/v1/jobs/${enc(id)}`);
  }

  servers(): Promise<ServerList> {
    return this.api.json('GET', '/api/v1/servers');
  }

  /** Each event of a job as it comes (from whichever server runs it); resolves with the job once it ended. */
  async follow(id: string, onEvent: (e: JobEventView) => void, after = 0): Promise<JobView> {
    const res = await this.api.send('GET', `/api/v1/jobs/${enc(id)}/events`, {
      query: { follow: 'true', after: String(after) },
      headers: { accept: 'application/x-ndjson, application/problem+json' },
      timeoutMs: FOREVER_MS,
    });
    if (!res.body) throw new ApiError(502, res.url, { detail: 'the server sent no event stream' });
    for await (const line of ndjson(res.body)) {
      const m = line as { event?: JobEventView; result?: JobView; error?: Partial<Problem> };
      if (m.event) onEvent(m.event);
      else if (m.result) return m.result;
      else if (m.error) throw new ApiError(m.error.status ?? 500, res.url, m.error);
    }
    throw new ApiError(502, res.url, { detail: `the event stream ended before the job did; "pave jobs show ${id}" shows where it is` });
  }

  /** A job's full id: given as is, or found from its start among the 500 newest jobs the caller may see. */
  async resolve(value: string): Promise<string> {
    if (UUID.test(value)) return value.toLowerCase();
    if (!/^[0-9a-f-]{4,36}$/i.test(value)) throw new CliError(`"${value}" is not a job id: use the id "pave jobs list" shows`, 2);
    const { items } = await this.list({ limit: 500 });
    const found = items.filter((j) => j.id.startsWith(value.toLowerCase()));
    if (found.length === 1) return found[0]!.id;
    if (!found.length) throw new CliError(`no recent job has an id starting with ${value}; give the whole id`);
    throw new CliError(`${found.length} jobs have an id starting with ${value}: give more of it`, 2);
  }
}

// ---- rendering --------------------------------------------------------------------------------

/** `application:default/shop/development` → `shop/development`. */
const subjectText = (s: string | null) => (s ? s.replace(/^application:default\//, '').replace(/^application:/, '') : null);

export function jobsTable(items: JobView[]): string {
  return table(
    ['ID', 'KIND', 'SUBJECT', 'STATE', 'ATTEMPTS', 'SERVER', 'BY', 'CREATED', 'DURATION'],
    items.map((j) => [shortJob(j.id), j.kind, subjectText(j.subject), j.state, j.takeovers ? `${j.attempts} (${j.takeovers} takeover${j.takeovers === 1 ? '' : 's'})` : j.attempts, j.serverHost ?? shortJob(j.server), who(j.createdBy), when(j.createdAt), ms(j.durationMs)]),
  );
}

/** What an event says, in one line: a resource event as `db (postgres): ready`, a takeover with the server it came from. */
export function eventText(e: JobEventView): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'progress':
      if (typeof d.resource === 'string' && typeof d.phase === 'string') return `${d.resource} (${String(d.type)}): ${d.phase}${d.detail ? ` (${String(d.detail)})` : ''}${typeof d.ms === 'number' ? ` in ${ms(d.ms)}` : ''}`;
      if (typeof d.message === 'string') return d.message;
      return JSON.stringify(e.data);
    case 'claimed':
      return `started on server ${shortJob(e.server)}`;
    case 'takeover':
      return `taken over by server ${shortJob(e.server)} from ${shortJob(typeof d.from === 'string' ? d.from : null) ?? 'a server'}, which stopped renewing its lease`;
    case 'retry':
      return `to be retried${typeof d.dueInSeconds === 'number' ? ` in ${d.dueInSeconds} s` : ''}: ${typeof d.reason === 'string' ? d.reason : 'its handler asked'}`;
    case 'released':
      return `given back to the queue by server ${shortJob(e.server)}, which is stopping`;
    case 'lost':
      return `server ${shortJob(e.server)} found that another server had taken the job over`;
    case 'failed':
      return `failed: ${typeof d.detail === 'string' ? d.detail : 'see the job'}`;
    default:
      return e.type;
  }
}

export const eventLine = (e: JobEventView) => `${when(e.at)}  #${e.attempt}  ${eventText(e)}`;

export function jobText(j: JobDetail): string {
  const parts = [
    fields([
      ['Job', j.id],
      ['Kind', j.kind],
      ['Subject', subjectText(j.subject)],
      ['State', j.state],
      ['Error', j.error ? `${j.error.detail}${j.error.message ? ` (${j.error.message})` : ''}` : null],
      ['Attempts', `${j.attempts} of at most ${j.maxAttempts}${j.takeovers ? `, ${j.takeovers} takeover${j.takeovers === 1 ? '' : 's'}` : ''}`],
      ['Server', j.server ? `${j.serverHost ?? 'not registered any more'} (${shortJob(j.server)})` : null],
      ['Lease until', when(j.leaseExpiresAt)],
      ['By', who(j.createdBy)],
      ['Created', when(j.createdAt)],
      ['Started', when(j.startedAt)],
      ['Finished', when(j.finishedAt)],
      ['Duration', ms(j.durationMs)],
    ]),
  ];
  parts.push('', j.events.length ? 'Events:' : 'Events: (none)', ...j.events.map((e) => `  ${eventLine(e)}`));
  return parts.join('\n');
}

export function serversText(s: ServerList): string {
  const rows = s.items.map((x) => [shortJob(x.id), x.host, x.pid, x.version, x.live ? 'yes' : 'no', when(x.lastSeen), x.runningJobs, when(x.startedAt), x.self ? '(this one)' : '']);
  const head = table(['ID', 'HOST', 'PID', 'VERSION', 'LIVE', 'LAST SEEN', 'JOBS', 'STARTED', ''], rows);
  return `${head}\n\n${s.multiServer ? 'A multi-server installation' : 'A single-server installation'}: ${s.reason}. Job lease: ${s.leaseSeconds} s.`;
}

/** Writes events in the chosen format: text lines, NDJSON, or a YAML document each. */
async function eventWriter(format: Format): Promise<(e: JobEventView) => void> {
  if (format === 'json') return (e) => write(JSON.stringify(e));
  if (format === 'yaml') {
    const yaml = await import('yaml');
    return (e) => write(`---\n${yaml.stringify(e, { lineWidth: 0 })}`);
  }
  return (e) => write(eventLine(e));
}

/** A job that did not succeed: why, on stderr, and exit code 1. */
function reportJob(j: JobView): void {
  if (j.state === 'succeeded' || !FINAL.includes(j.state)) return;
  info(`error: job ${shortJob(j.id)} (${j.kind}) ${j.state}${j.error ? `: ${j.error.detail}` : ''}`);
  process.exitCode = 1;
}

// ---- commands ---------------------------------------------------------------------------------

const jobsFor = (cmd: Command) => new JobsClient(clientFor(cmd));

export function jobsCommand(): Command {
  const group = new Command('jobs').description('Background jobs of the installation: which server runs them, their progress, takeovers');

  withOutput(group.command('list').alias('ls').description('Jobs of the installation, newest first (needs audit.read: admins, platform engineers)'))
    .addOption(new Option('--kind <kind>', 'only jobs of this kind, e.g. resources.apply'))
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--limit <n>', 'how many (1 to 500)', positiveInt('--limit', 500), 50)
    .action(async (o: OutputOpts & { kind?: string; state?: string; limit: number }, cmd: Command) => {
      const page = await jobsFor(cmd).list({ kind: o.kind, state: o.state, limit: o.limit });
      await render(o.output, page, () => (page.items.length ? jobsTable(page.items) : 'No jobs yet (applying an environment\'s resources runs one).'));
    });

  withOutput(group.command('show').argument('<id>', 'job id (or its start)').description('One job: its state, server, attempts and takeovers, and its events'))
    .action(async (value: string, o: OutputOpts, cmd: Command) => {
      const client = jobsFor(cmd);
      const j = await client.get(await client.resolve(value));
      await render(o.output, j, () => jobText(j));
      reportJob(j);
    });

  withOutput(group.command('follow').argument('<id>', 'job id (or its start)').description('Print a job\'s events as they come, whichever server runs it, until it ends'))
    .addHelpText('after', '\nWith -o json, each event is one JSON object (NDJSON). Exits with 1 when the job failed.')
    .action(async (value: string, o: OutputOpts, cmd: Command) => {
      const client = jobsFor(cmd);
      const out = await eventWriter(o.output);
      const j = await client.follow(await client.resolve(value), out);
      if (o.output === 'table') info(`job ${shortJob(j.id)} ${j.state}${j.durationMs !== null ? ` in ${ms(j.durationMs)}` : ''}`);
      reportJob(j);
    });

  return group;
}

export function serversCommand(): Command {
  return withOutput(new Command('servers').description('The Pave servers of the installation, their heartbeats and running jobs (needs audit.read)')).action(async (o: OutputOpts, cmd: Command) => {
    const s = await jobsFor(cmd).servers();
    await render(o.output, s, () => serversText(s));
  });
}
