import os from 'node:os';
import { sql } from 'kysely';
import { PaveError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { ServerRow } from '../store/schema.ts';

/**
 * The registry of running Pave servers: each registers at start (id, host, pid, version, URL) and
 * beats while it runs; a server is live while its last beat is younger than the liveness window (the
 * job lease: three missed beats). A server that stops normally removes itself; one that crashed stays
 * listed, not live, for a day.
 *
 * A multi-server installation is one with more than one live server, or one declared so with
 * `PAVE_HA=true` (servers that start one after the other are then never mistaken for a single one).
 */
export interface ServerInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  url: string | null;
  startedAt: Date;
  lastSeen: Date;
  live: boolean;
  /** Jobs this server holds now (running, lease not run out). */
  runningJobs: number;
}

export interface ServerIdentity {
  id: string;
  host: string;
  pid: number;
  version: string;
  url: string | null;
}

/** How long a crashed server's row is kept, for the record. */
const FORGET_AFTER = '1 day';

export class ServerRegistry {
  private readonly db: Db;
  private readonly livenessSeconds: number;
  private readonly ha: boolean;
  constructor(db: Db, o: { livenessSeconds: number; ha: boolean }) {
    this.db = db;
    this.livenessSeconds = o.livenessSeconds;
    this.ha = o.ha;
  }

  async register(s: ServerIdentity): Promise<void> {
    await this.db.deleteFrom('servers').where('last_seen', '<', sql<Date>`now() - ${FORGET_AFTER}::interval`).execute();
    await this.db
      .insertInto('servers')
      .values({ id: s.id, host: s.host, pid: s.pid, version: s.version, url: s.url, started_at: sql<Date>`now()`, last_seen: sql<Date>`now()` })
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen: sql<Date>`now()`, url: s.url }))
      .execute();
  }

  /** The heartbeat; registers again when the row is gone (e.g. forgotten after a very long pause). */
  async beat(s: ServerIdentity): Promise<void> {
    const res = await this.db.updateTable('servers').set({ last_seen: sql<Date>`now()` }).where('id', '=', s.id).executeTakeFirst();
    if (!Number(res.numUpdatedRows)) await this.register(s);
  }

  /**
   * Which of these servers are known dead without waiting for their lease: registered on this host
   * with a process that no longer exists (or whose pid this process now has, under another id: an
   * earlier run of this server, e.g. in a restarted container).
   */
  async deadOnThisHost(ids: readonly string[], self: string): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db.selectFrom('servers').select(['id', 'host', 'pid']).where('id', 'in', [...ids]).where('host', '=', os.hostname()).execute();
    return rows.filter((r) => r.id !== self && (r.pid === process.pid || !processExists(r.pid))).map((r) => r.id);
  }

  async unregister(id: string): Promise<void> {
    await this.db.deleteFrom('servers').where('id', '=', id).execute();
  }

  /** Every server on record, live ones first, newest first. */
  async list(): Promise<ServerInfo[]> {
    const res = await sql<ServerRow & { live: boolean; running: number }>`
      SELECT s.*, s.last_seen > now() - make_interval(secs => ${this.livenessSeconds}) AS live,
             (SELECT count(*)::int FROM jobs j WHERE j.locked_by = s.id AND j.state = 'running' AND j.lease_expires_at > now()) AS running
      FROM servers s
      ORDER BY live DESC, s.started_at DESC`.execute(this.db);
    return res.rows.map((r) => ({ id: r.id, host: r.host, pid: r.pid, version: r.version, url: r.url, startedAt: r.started_at, lastSeen: r.last_seen, live: r.live, runningJobs: Number(r.running) }));
  }

  async live(): Promise<ServerInfo[]> {
    return (await this.list()).filter((s) => s.live);
  }

  /** Whether this is a multi-server installation, and why. */
  async multiServer(): Promise<{ multi: boolean; reason: string }> {
    if (this.ha) return { multi: true, reason: 'PAVE_HA=true declares it highly available' };
    const live = await this.live();
    if (live.length > 1) return { multi: true, reason: `${live.length} servers are running against its database (${live.map((s) => `${s.host} pid ${s.pid}`).join(', ')})` };
    return { multi: false, reason: `${live.length} server is running` };
  }

  /**
   * Why `what` cannot be done with the local process runtime here, or null when it can: only a
   * single-server installation can, since that runtime's processes and router live on the host of
   * the one server that started them.
   */
  async singleHostRefusal(what: string): Promise<string | null> {
    const m = await this.multiServer();
    if (!m.multi) return null;
    return (
      `${what} is refused: this Pave installation has several servers (${m.reason}), and the local process runtime is single-host: ` +
      `its processes and its router live on the machine of the server that started them, so the other servers can neither reach, restart nor release them. ` +
      `Give production environments a runtime target that does not live on one host (kubernetes or gitops: pave runtime <app> --env <env> kubernetes), or run one Pave server (and unset PAVE_HA).`
    );
  }

  /** Refuses (409, problem type single-host-runtime) what only a single-server installation can do with the local process runtime. */
  async requireSingleHost(what: string): Promise<void> {
    const refusal = await this.singleHostRefusal(what);
    if (refusal) throw new PaveError(409, 'single-host-runtime', 'Single-host runtime', refusal);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}
