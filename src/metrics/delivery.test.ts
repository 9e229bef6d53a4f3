import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { PaveError } from '../errors.ts';
import { bucketStart, buckets, periodOf } from './delivery.ts';
import { countRelease, recordActionRun, recordDeployment, recordProvision, registerPlatformMetrics } from './instruments.ts';

describe('delivery periods and buckets', () => {
  test('weeks start on Monday, 00:00 UTC (as date_trunc); days at 00:00 UTC', () => {
    assert.equal(bucketStart(new Date('2026-03-05T13:00:00Z'), 'week').toISOString(), '2026-03-02T00:00:00.000Z'); // a Thursday
    assert.equal(bucketStart(new Date('2026-03-08T23:59:59Z'), 'week').toISOString(), '2026-03-02T00:00:00.000Z'); // Sunday night
    assert.equal(bucketStart(new Date('2026-03-09T00:00:00Z'), 'week').toISOString(), '2026-03-09T00:00:00.000Z'); // Monday
    assert.equal(bucketStart(new Date('2026-03-05T13:00:00+05:00'), 'day').toISOString(), '2026-03-05T00:00:00.000Z');
  });

  test('the buckets cover the period: from the one holding since to the one holding the last instant', () => {
    const b = buckets(new Date('2026-03-04T12:00:00Z'), new Date('2026-03-16T00:00:00Z'), 'week');
    assert.deepEqual(b.map((x) => [x.start.toISOString().slice(0, 10), x.end.toISOString().slice(0, 10)]), [['2026-03-02', '2026-03-09'], ['2026-03-09', '2026-03-16']]);
    assert.equal(buckets(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-31T00:00:00Z'), 'day').length, 30);
    assert.equal(buckets(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-31T00:00:01Z'), 'day').length, 31);
  });

  test('the period: until defaults to now, since to 30 days back; spans count back from until', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const p = periodOf({ bucket: 'week' }, now);
    assert.equal(p.until.toISOString(), now.toISOString());
    assert.equal(p.since.toISOString(), '2026-10-23T10:00:00.000Z');
    assert.equal(periodOf({ since: '2w', until: '2026-03-30', bucket: 'day' }).since.toISOString(), '2026-03-16T00:00:00.000Z');
    assert.equal(periodOf({ since: '48h', until: '2026-03-30T00:00:00Z', bucket: 'day' }).since.toISOString(), '2026-03-28T00:00:00.000Z');
    assert.equal(periodOf({ since: '2026-03-02', until: '2026-03-30', bucket: 'week' }).since.toISOString(), '2026-03-02T00:00:00.000Z');
  });

  test('an empty or too long period is refused with the field', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof PaveError);
        return `${e.status} ${e.errors?.[0]?.path}`;
      }
      return 'no error';
    };
    assert.equal(err(() => periodOf({ since: '2026-03-30', until: '2026-03-30', bucket: 'day' })), '400 query.since');
    assert.equal(err(() => periodOf({ since: '400d', until: '2026-03-30', bucket: 'day' })), '400 query.bucket');
    assert.equal(err(() => periodOf({ since: '400d', until: '2026-03-30', bucket: 'week' })), 'no error');
  });
});

describe('platform instruments', () => {
  /** One sample's value (0 when absent); a histogram's series are named name_bucket, name_count, name_sum. */
  const sample = async (r: Registry, name: string, labels: Record<string, string>) => {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    const m = (await r.getMetricsAsJSON()).find((x) => x.name === name || x.name === base);
    const values = (m?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
    const v = values.find((x) => (x.metricName ?? m?.name) === name && Object.entries(labels).every(([k, l]) => String(x.labels[k]) === l));
    return v?.value ?? 0;
  };

  test('every registry that registers them sees the same counts', async () => {
    const a = new Registry();
    const b = new Registry();
    registerPlatformMetrics(a);
    registerPlatformMetrics(a); // twice is harmless
    registerPlatformMetrics(b);
    const before = await sample(a, 'pave_deployments_total', { outcome: 'healthy' });
    recordDeployment('healthy');
    assert.equal(await sample(a, 'pave_deployments_total', { outcome: 'healthy' }), before + 1);
    assert.equal(await sample(b, 'pave_deployments_total', { outcome: 'healthy' }), before + 1);
    recordActionRun('http', 'timed-out');
    assert.ok((await sample(b, 'pave_action_runs_total', { kind: 'http', outcome: 'timed-out' })) >= 1);
    recordProvision('unit-test-type', 'succeeded', 0.3);
    assert.equal(await sample(a, 'pave_resource_provision_seconds_count', { type: 'unit-test-type', outcome: 'succeeded' }), 1);
    assert.equal(await sample(a, 'pave_resource_provision_seconds_bucket', { type: 'unit-test-type', outcome: 'succeeded', le: '0.25' }), 0);
    assert.equal(await sample(a, 'pave_resource_provision_seconds_bucket', { type: 'unit-test-type', outcome: 'succeeded', le: '0.5' }), 1);
  });

  test('a release is counted by how its work settles, and its result or error passes through', async () => {
    const r = new Registry();
    registerPlatformMetrics(r);
    const ok0 = await sample(r, 'pave_releases_total', { kind: 'promote', outcome: 'succeeded' });
    const failed0 = await sample(r, 'pave_releases_total', { kind: 'promote', outcome: 'failed' });
    assert.equal(await countRelease('promote', Promise.resolve(42)), 42);
    await assert.rejects(countRelease('promote', Promise.reject(new Error('release phase failed'))), /release phase failed/);
    assert.equal(await sample(r, 'pave_releases_total', { kind: 'promote', outcome: 'succeeded' }), ok0 + 1);
    assert.equal(await sample(r, 'pave_releases_total', { kind: 'promote', outcome: 'failed' }), failed0 + 1);
  });
});
