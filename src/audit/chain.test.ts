import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyDigest, ChainVerifier, eventHash, GENESIS, verifyChain, type ChainedEvent } from './chain.ts';

/** A chain of `n` events as the audit log writes them. */
function chain(n: number): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  let prev = GENESIS;
  for (let i = 1; i <= n; i++) {
    const content = {
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(), actor: `user:default/u${i % 3}`, action: i % 2 ? 'createTeam' : 'secret.read', target: `team:default/t${i}`,
      outcome: 'succeeded', requestId: `req-${i}`, details: { status: 201, method: 'POST', nested: { b: 1, a: [1, 2] } },
    };
    const hash = eventHash(prev, content);
    out.push({ id: i * 10, ...content, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('the audit hash chain', () => {
  test('an intact chain holds, in one go or in batches', () => {
    const events = chain(7);
    assert.deepEqual(verifyChain(events), { ok: true, checked: 7, brokenAt: null });
    const v = new ChainVerifier();
    assert.equal(v.push(events.slice(0, 3)), true);
    assert.equal(v.push(events.slice(3)), true);
    assert.deepEqual(v.report(), { ok: true, checked: 7, brokenAt: null });
    assert.deepEqual(verifyChain([]), { ok: true, checked: 0, brokenAt: null });
  });

  test('the hash does not depend on the order of keys in details (jsonb reorders them)', () => {
    const [e] = chain(1);
    const reordered = { ...e!, details: { nested: { a: [1, 2], b: 1 }, method: 'POST', status: 201 } };
    assert.deepEqual(verifyChain([reordered]), { ok: true, checked: 1, brokenAt: null });
  });

  test('an edited event breaks the chain at that event', () => {
    for (const edit of [
      (e: ChainedEvent) => ({ ...e, actor: 'user:default/mallory' }),
      (e: ChainedEvent) => ({ ...e, outcome: 'failed' }),
      (e: ChainedEvent) => ({ ...e, details: { ...e.details, status: 500 } }),
      (e: ChainedEvent) => ({ ...e, at: '2030-01-01T00:00:00.000Z' }),
      (e: ChainedEvent) => ({ ...e, requestId: null }),
      (e: ChainedEvent) => ({ ...e, hash: 'f'.repeat(64) }),
    ]) {
      const events = chain(5);
      events[2] = edit(events[2]!);
      assert.deepEqual(verifyChain(events), { ok: false, checked: 2, brokenAt: 30, reason: 'edited' });
    }
  });

  test('an edit with its own hash recomputed still breaks the link of the next event', () => {
    const events = chain(5);
    const forged = { ...events[2]!, actor: 'user:default/mallory' };
    forged.hash = eventHash(forged.prevHash, forged);
    events[2] = forged;
    assert.deepEqual(verifyChain(events), { ok: false, checked: 3, brokenAt: 40, reason: 'unlinked' });
  });

  test('a deleted middle event breaks the chain at the event after it', () => {
    const events = chain(5);
    events.splice(2, 1);
    assert.deepEqual(verifyChain(events), { ok: false, checked: 2, brokenAt: 40, reason: 'unlinked' });
  });

  test('a deleted first event breaks the chain at the new first one', () => {
    assert.deepEqual(verifyChain(chain(3).slice(1)), { ok: false, checked: 0, brokenAt: 20, reason: 'unlinked' });
  });

  test('reordered events break the chain', () => {
    const events = chain(5);
    [events[1], events[2]] = [events[2]!, events[1]!];
    assert.deepEqual(verifyChain(events), { ok: false, checked: 1, brokenAt: 30, reason: 'unlinked' });
    // the same, with the ids swapped back so that id order hides the move (rows' contents exchanged)
    const swapped = chain(5);
    const [b, c] = [swapped[1]!, swapped[2]!];
    swapped[1] = { ...c, id: b.id };
    swapped[2] = { ...b, id: c.id };
    assert.deepEqual(verifyChain(swapped), { ok: false, checked: 1, brokenAt: 20, reason: 'unlinked' });
  });

  test('an inserted event breaks the chain', () => {
    const events = chain(4);
    const extra = { ...events[1]!, id: 25, actor: 'user:default/mallory' };
    extra.hash = eventHash(extra.prevHash, extra);
    events.splice(2, 0, extra);
    // the forged event links to its predecessor's predecessor
    assert.equal(verifyChain(events).ok, false);
  });

  test('a verifier stops at the first break', () => {
    const events = chain(6);
    events[1] = { ...events[1]!, outcome: 'x' };
    events[4] = { ...events[4]!, outcome: 'x' };
    const v = new ChainVerifier();
    assert.equal(v.push(events.slice(0, 3)), false);
    assert.equal(v.push(events.slice(3)), false);
    assert.deepEqual(v.report(), { ok: false, checked: 1, brokenAt: 20, reason: 'edited' });
  });
});

describe('body digests', () => {
  test('sha256 of bytes, text, or JSON with sorted keys; none without a body', () => {
    assert.equal(bodyDigest(undefined), null);
    assert.equal(bodyDigest(null), null);
    assert.equal(bodyDigest(Buffer.from('abc')), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(bodyDigest('abc'), bodyDigest(Buffer.from('abc')));
    assert.equal(bodyDigest({ b: 1, a: { d: 2, c: [3] } }), bodyDigest({ a: { c: [3], d: 2 }, b: 1 }));
    assert.notEqual(bodyDigest({ value: 'secret-1' }), bodyDigest({ value: 'secret-2' }));
    assert.doesNotMatch(bodyDigest({ value: 'secret-1' })!, /secret/);
  });
});
