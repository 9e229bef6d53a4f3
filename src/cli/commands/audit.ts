import { Command, InvalidArgumentError } from 'commander';
import type { AuditEvent, AuditVerification } from '../actions-client.ts';
import { info, render, table } from '../output.ts';
import { when, who } from './deploy.ts';
import { actionsFor, shortId } from './runs.ts';
import { positiveInt, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave audit list|verify`: the audit log (admins). Events are appended, never changed, each hashed
 * with the one before it; `verify` has the server recompute that chain and exits 1 when it is broken.
 */

/** `admin` → `user:default/admin`: the actor as the log records it; a full ref stays as it is. */
const actorRef = (a: string) => (a.includes(':') ? a : `user:default/${a}`);

/** An ISO 8601 date or date-time, as the server takes them. */
function instant(value: string): string {
  if (!/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d))?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be a date (2026-11-21) or a date and time with its offset (2026-11-21T10:00:00Z).');
  }
  return value.replace(' ', 'T');
}

/** `run=1234abcd, error=…`: details on one line; run ids short, empty objects left out. */
function detailsText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => {
      if (k === 'run' && typeof v === 'string') return `run=${shortId(v)}`;
      if (v === null || v === undefined || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) return null;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    })
    .filter((s) => s !== null)
    .join(', ');
}

function eventsTable(items: AuditEvent[]): string {
  return table(['ID', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'DETAILS'], items.map((e) => [e.id, when(e.at), who(e.actor), e.action, e.target, e.outcome, detailsText(e.details)]));
}

const REASONS: Record<string, string> = {
  edited: 'it does not match its hash (it was changed)',
  unlinked: 'it does not link to the event before it (an event was deleted, inserted or moved)',
};

function verificationText(v: AuditVerification): string {
  const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;
  if (v.ok) return `The audit log holds: ${events(v.checked)} checked, each hash chained to the one before.`;
  const why = (v.reason && REASONS[v.reason]) ?? 'its hash or its link to the event before does not hold';
  return `The audit log is broken at event ${v.brokenAt}: ${why}. ${events(v.checked)} before it are intact.`;
}

type ListOpts = OutputOpts & {
  target?: string; targetPrefix?: string; actor?: string; action?: string; outcome?: string; requestId?: string; since?: string; until?: string; limit?: number; cursor?: string;
};

export function auditCommand(): Command {
  const group = new Command('audit').description('The audit log: who did what to which target, and how it ended (admins)');

  withOutput(
    group
      .command('list')
      .alias('ls')
      .description('Audit events, newest first; the filters are AND-ed')
      .option('--target <target>', 'only events of this target, e.g. application:default/shop/production/migrate')
      .option('--target-prefix <prefix>', 'only events whose target starts with this, e.g. application:default/shop/')
      .option('--actor <user>', 'only events by this user (a name, or a ref such as user:default/alice)')
      .option('--action <action>', 'only this operation, e.g. action.run or createTeam')
      .option('--outcome <outcome>', 'only this outcome, e.g. denied, failed, succeeded, started')
      .option('--request-id <id>', 'only the events of one request (its x-request-id)')
      .option('--since <time>', 'only events at or after this date or time (ISO 8601)', instant)
      .option('--until <time>', 'only events before this date or time (ISO 8601)', instant)
      .option('--limit <n>', 'at most this many events (default 100)', positiveInt('--limit', 1000))
      .option('--cursor <cursor>', 'older events: the cursor a previous page ended with'),
  ).action(async (o: ListOpts, cmd: Command) => {
    const page = await actionsFor(cmd).audit({
      target: o.target, targetPrefix: o.targetPrefix, actor: o.actor === undefined ? undefined : actorRef(o.actor), action: o.action, outcome: o.outcome,
      requestId: o.requestId, since: o.since, until: o.until, limit: o.limit, cursor: o.cursor,
    });
    await render(o.output, page, () => (page.items.length ? eventsTable(page.items) : 'No audit events match.'));
    if (page.nextCursor && o.output === 'table') info(`Older events: add --cursor ${page.nextCursor}.`);
  });

  withOutput(group.command('verify').description('Recompute the audit log\'s hash chain on the server (exit code 1 when it is broken)')).action(async (o: OutputOpts, cmd: Command) => {
    const v = await actionsFor(cmd).verifyAudit();
    await render(o.output, v, () => verificationText(v));
    if (!v.ok) {
      if (o.output !== 'table') info(`error: ${verificationText(v)}`);
      process.exitCode = 1;
    }
  });

  return group;
}
