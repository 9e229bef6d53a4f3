import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import type { AuditEventRow } from '../store/schema.ts';

/**
 * The audit log: append-only events (actor, action, target, outcome, request id, details), each
 * carrying a hash over its content and the previous event's hash, so that an edit or a deletion in
 * the store breaks the chain and `verify` finds it. Invariant: nothing in Pave updates or deletes an
 * event; appends are serialised (advisory lock), so the chain has no forks.
 */
export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditEvent extends Required<Omit<AuditEntry, 'requestId'>> {
  id: number;
  at: string;
  requestId: string | null;
  hash: string;
}

const GENESIS = '0'.repeat(64);

function digest(prev: string, e: { at: string; actor: string; action: string; target: string; outcome: string; requestId: string | null; details: Record<string, unknown> }): string {
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify([e.at, e.actor, e.action, e.target, e.outcome, e.requestId, canonical(e.details)])).digest('hex');
}

/** JSON with sorted keys, so that the hash does not depend on the order jsonb gives keys back in. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

const view = (r: AuditEventRow): AuditEvent => ({
  id: Number(r.id), at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, requestId: r.request_id, details: r.details, hash: r.hash,
});

export class AuditLog {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async append(e: AuditEntry): Promise<AuditEvent> {
    return this.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('pave:audit'))`.execute(tx);
      const last = await tx.selectFrom('audit_events').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
      const prev = last?.hash ?? GENESIS;
      const at = new Date().toISOString();
      const entry = { at, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, requestId: e.requestId ?? null, details: e.details ?? {} };
      const row = await tx
        .insertInto('audit_events')
        .values({ at, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, request_id: entry.requestId, details: JSON.stringify(entry.details), prev_hash: prev, hash: digest(prev, entry) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return view(row);
    });
  }

  async list(q: { target?: string | undefined; actor?: string | undefined; targetPrefix?: string | undefined; limit?: number | undefined }): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(q.limit ?? 100);
    if (q.target) query = query.where('target', '=', q.target);
    if (q.targetPrefix) query = query.where('target', 'like', `${q.targetPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (q.actor) query = query.where('actor', '=', q.actor);
    return (await query.execute()).map(view);
  }

  /** Recomputes the chain: the first event whose hash or link does not hold, if any. */
  async verify(): Promise<{ ok: boolean; checked: number; brokenAt: number | null }> {
    let prev = GENESIS;
    let checked = 0;
    let after = 0n;
    for (;;) {
      const rows = await this.db.selectFrom('audit_events').selectAll().where('id', '>', String(after)).orderBy('id').limit(1000).execute();
      if (!rows.length) return { ok: true, checked, brokenAt: null };
      for (const r of rows) {
        const e = view(r);
        if (r.prev_hash !== prev || digest(prev, e) !== r.hash) return { ok: false, checked, brokenAt: e.id };
        prev = r.hash;
        checked++;
        after = BigInt(r.id);
      }
    }
  }
}
