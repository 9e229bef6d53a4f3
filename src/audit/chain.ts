import { createHash, createHmac } from 'node:crypto';

/**
 * The audit log's hash chain, as pure functions: each event's hash covers its content and the hash of
 * the event before it (the first one links to GENESIS). Editing an event breaks its own hash; deleting,
 * inserting or reordering events breaks the link of the next one. Recomputing every hash after an edit
 * is not detected by the chain alone: compare the head hash with a copy kept elsewhere (an export).
 */
export const GENESIS = '0'.repeat(64);

/** What an event's hash covers. */
export interface HashedContent {
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** An event as stored: its content, its link to the previous event, and its own hash. */
export interface ChainedEvent extends HashedContent {
  id: number;
  prevHash: string;
  hash: string;
}

/** JSON with sorted keys, so that the hash does not depend on the order jsonb gives keys back in. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

export function eventHash(prev: string, e: HashedContent): string {
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify([e.at, e.actor, e.action, e.target, e.outcome, e.requestId, canonical(e.details)])).digest('hex');
}

/**
 * Why the chain broke at an event: `edited` when the event's own hash does not match its content (it
 * was changed), `unlinked` when it does but it does not link to the event before it (an event before
 * it was deleted, inserted or moved).
 */
export type ChainBreak = 'edited' | 'unlinked';

export interface ChainReport {
  ok: boolean;
  /** Events found intact before the first break (all of them when ok). */
  checked: number;
  /** The id of the first event where the chain does not hold. */
  brokenAt: number | null;
  reason?: ChainBreak;
}

/** Checks events fed in id order, in as many batches as needed; stops at the first break. */
export class ChainVerifier {
  private prev = GENESIS;
  private checked = 0;
  private broken: { id: number; reason: ChainBreak } | null = null;

  /** Feeds the next events; false once the chain broke (feeding more changes nothing). */
  push(events: Iterable<ChainedEvent>): boolean {
    if (this.broken) return false;
    for (const e of events) {
      if (eventHash(e.prevHash, e) !== e.hash) this.broken = { id: e.id, reason: 'edited' };
      else if (e.prevHash !== this.prev) this.broken = { id: e.id, reason: 'unlinked' };
      if (this.broken) return false;
      this.prev = e.hash;
      this.checked++;
    }
    return true;
  }

  report(): ChainReport {
    return this.broken ? { ok: false, checked: this.checked, brokenAt: this.broken.id, reason: this.broken.reason } : { ok: true, checked: this.checked, brokenAt: null };
  }
}

/** Checks a whole chain at once. */
export function verifyChain(events: Iterable<ChainedEvent>): ChainReport {
  const v = new ChainVerifier();
  v.push(events);
  return v.report();
}

/** `sha256:<hex>` of a request body as the server received it (bytes, text, or the parsed JSON in canonical form); null without a body. */
export function bodyDigest(body: unknown, key?: Buffer): string | null {
  if (body === undefined || body === null) return null;
  // keyed when a key is given: a digest of a body that holds a weak secret cannot be brute-forced offline
  const h = key ? createHmac('sha256', key) : createHash('sha256');
  if (Buffer.isBuffer(body)) h.update(body);
  else if (typeof body === 'string') h.update(body, 'utf8');
  else h.update(JSON.stringify(canonical(body)));
  return `${key ? 'hmac-sha256' : 'sha256'}:${h.digest('hex')}`;
}
