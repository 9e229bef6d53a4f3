import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import type { AuditEventRow } from '../store/schema.ts';
import { ChainVerifier, eventHash, GENESIS, type ChainedEvent, type ChainReport } from './chain.ts';
import { bodyDigest } from './chain.ts';

/**
 * The audit log: append-only events (actor, action, target, outcome, request id, details), each
 * carrying a hash over its content and the previous event's hash, so that an edit or a deletion in
 * the store breaks the chain and `verify` finds it (see chain.ts). Invariant: nothing in Pave updates
 * or deletes an event; appends are serialised (advisory lock), so the chain has no forks.
 *
 * Who writes: the HTTP route kernel (src/http/route.ts) one event per state-changing request and per
 * secret read; the actions service the life of each action run (`action.run`: denied, started, then
 * how it ended).
 */
export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export type AuditEvent = ChainedEvent;

/** Filters of list and export; all AND-ed. `since` is inclusive, `until` exclusive. */
export interface AuditFilter {
  actor?: string | undefined;
  target?: string | undefined;
  targetPrefix?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  requestId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

const view = (r: AuditEventRow): AuditEvent => ({
  id: Number(r.id), at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, requestId: r.request_id, details: r.details, prevHash: r.prev_hash, hash: r.hash,
});

const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class AuditLog {
  private readonly db: Db;
  private readonly digestKey: Buffer | undefined;
  /** `digestKey` keys the digests of request bodies (HMAC-SHA256), so that they reveal nothing of a secret. */
  constructor(db: Db, digestKey?: Buffer) {
    this.db = db;
    this.digestKey = digestKey;
  }

  digest(body: unknown): string | null {
    return bodyDigest(body, this.digestKey);
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
        .values({ at, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, request_id: entry.requestId, details: JSON.stringify(entry.details), prev_hash: prev, hash: eventHash(prev, entry) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return view(row);
    });
  }

  private filtered(f: AuditFilter) {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (f.actor) q = q.where('actor', '=', f.actor);
    if (f.target) q = q.where('target', '=', f.target);
    if (f.targetPrefix) q = q.where('target', 'like', likePrefix(f.targetPrefix));
    if (f.action) q = q.where('action', '=', f.action);
    if (f.outcome) q = q.where('outcome', '=', f.outcome);
    if (f.requestId) q = q.where('request_id', '=', f.requestId);
    if (f.since) q = q.where('at', '>=', f.since);
    if (f.until) q = q.where('at', '<', f.until);
    return q;
  }

  /** One page of matching events, newest first; `before` is the id the previous page ended at (keyset). */
  async list(f: AuditFilter & { limit?: number | undefined; before?: number | undefined }): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
    const limit = f.limit ?? 100;
    let q = this.filtered(f).orderBy('id', 'desc').limit(limit + 1);
    if (f.before !== undefined) q = q.where('id', '<', String(f.before));
    const rows = (await q.execute()).map(view);
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
  }

  /** Every matching event, oldest first (chain order), read in batches. */
  async *stream(f: AuditFilter, batch = 500): AsyncGenerator<AuditEvent> {
    let after = '0';
    for (;;) {
      const rows = await this.filtered(f).where('id', '>', after).orderBy('id').limit(batch).execute();
      for (const r of rows) yield view(r);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Recomputes the chain: the first event whose hash or link does not hold, if any, and why. */
  async verify(): Promise<ChainReport> {
    const v = new ChainVerifier();
    let after = '0';
    for (;;) {
      const rows = await this.db.selectFrom('audit_events').selectAll().where('id', '>', after).orderBy('id').limit(1000).execute();
      if (!rows.length || !v.push(rows.map(view))) return v.report();
      after = rows[rows.length - 1]!.id;
    }
  }
}
