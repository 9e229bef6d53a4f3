import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PolicyEvent } from '../contracts/policies.ts';
import { PaveError } from '../errors.ts';
import { createLogger } from '../logging.ts';
import { formatPlatformError, loadPlatformFolder, parsePlatformFile } from '../platform/loader.ts';
import type { Policy } from '../platform/schema.ts';
import type { Db } from '../store/db.ts';
import { runAs } from './actor.ts';
import { compilePolicy, PolicyEngine, type CompiledPolicy, type PolicyCheck } from './engine.ts';

/** Policies as platform files: compiled when they load (errors with file and line), and the samples' decisions. */

const SAMPLE = join(import.meta.dirname, '..', '..', 'platform');
const policy = (name: string, spec: string) => `apiVersion: pave.dev/v1\nkind: Policy\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describe('loading policies', () => {
  test('a policy that does not compile is reported with its file, line and reason; the others load', () => {
    const text = [
      policy('good', '  on: [release]\n  deny: request.environment.type == "production"\n  message: no\n'),
      policy('bad-syntax', '  on: [release]\n  deny: >-\n    request.environment.type ==\n      == "x"\n  message: no\n'),
      policy('bad-field', '  on: [deployment.create]\n  deny: request.release.kind == "x"\n  message: no\n'),
      policy('bad-message', '  on: [application.create]\n  params: { max: 3 }\n  deny: team.applications >= params.max\n  message: "at most ${params.maximum}"\n'),
      policy('bad-event', '  on: [deploy]\n  deny: "true"\n  message: no\n'),
    ].join('---\n');
    const r = parsePlatformFile('policies/p.yaml', text);
    assert.deepEqual(r.objects.map((o) => o.object.metadata.name), ['good']);
    assert.deepEqual(
      r.errors.map(formatPlatformError),
      [
        'policies/p.yaml:16 (document 2): spec.deny: CEL: line 1, column 26: syntax error: found = but expecting end of input',
        'policies/p.yaml:27 (document 3): spec.deny: CEL: column 8: request.release does not exist (request has event, actor, application, environment, deployment)',
        'policies/p.yaml:38 (document 4): spec.message: CEL: ${params.maximum}: column 7: params.maximum is not set in spec.params (set: max)',
        'policies/p.yaml:45 (document 5): spec.on[0]: must be one of application.create, addon.attach, resource.provision, deployment.create, release, action.run',
      ],
    );
    assert.ok(r.errors.every((e) => e.kind === 'Policy'));
  });

  test('in a platform folder, a broken policy blocks nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-policies-'));
    try {
      cpSync(SAMPLE, dir, { recursive: true });
      writeFileSync(join(dir, 'policies', 'broken.yaml'), policy('broken', '  on: [release]\n  deny: now.getHour() > 17\n  message: too late\n'));
      const { objects, errors } = await loadPlatformFolder(dir);
      assert.deepEqual(errors.map(formatPlatformError), ['policies/broken.yaml:7: spec.deny: CEL: column 4: unknown function getHour(): did you mean getHours()?']);
      assert.equal(objects.filter((o) => o.object.kind === 'Policy').length, 6);
      assert.equal(objects.filter((o) => o.object.kind === 'Template').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the sample policies', () => {
  let engine: PolicyEngine;
  const SUNDAY = new Date('2026-11-22T10:00:00Z');
  const MONDAY = new Date('2026-11-23T10:00:00Z');
  const dev = { user: 'user:default/dana', roles: [] as string[] };
  const admin = { user: 'user:default/admin', roles: ['admin'] };
  const application = { ref: 'application:default/shop', name: 'shop', namespace: 'default', owner: 'team:default/payments', template: 'node-service', templateVersion: '1.0.0', inputs: {} };
  const env = (type: string, name = type) => ({ name, type });

  before(async () => {
    const { objects, errors } = await loadPlatformFolder(SAMPLE);
    assert.deepEqual(errors, []);
    const fixed = objects
      .filter((o) => o.object.kind === 'Policy')
      .map((o) => compilePolicy(o.object as Policy, { revision: 'r1', source: o.file, createdAt: '2026-01-01T00:00:00.000Z' }))
      .filter((p): p is CompiledPolicy => !('errors' in p));
    assert.equal(fixed.length, 6);
    // everything a check reads is given, so the store is never asked
    engine = new PolicyEngine({ db: undefined as unknown as Db, log: createLogger('silent'), fixed });
  });

  const check = (event: PolicyEvent, environment: { name: string; type: string } | null, details: Record<string, unknown> = {}): PolicyCheck => ({ event, application, environment, details });
  async function denied(checks: PolicyCheck[], opts: Parameters<PolicyEngine['decide']>[1] = {}): Promise<string[]> {
    const { decisions } = await engine.decide(checks, { actor: dev, now: MONDAY, team: { applications: 0, resources: {} }, ...opts });
    return decisions.filter((d) => d.denied).map((d) => `${d.policy}: ${d.message ?? d.error}`);
  }

  test('team-application-quota: at most 20 applications per team, admins exempt', async () => {
    const create = [check('application.create', env('development'))];
    assert.deepEqual(await denied(create, { team: { applications: 19 } }), []);
    assert.deepEqual(await denied(create, { team: { applications: 20 } }), [
      'team-application-quota: team payments already has 20 applications and its quota is 20; delete one, or ask the platform team for a larger quota',
    ]);
    assert.deepEqual(await denied(create, { team: { applications: 25 }, actor: admin }), []);
  });

  test('team-resource-quota: per type, counting what the same apply creates before', async () => {
    const resource = (name: string, exists = false) => check('resource.provision', env('development'), { resource: { name, type: 'postgres', class: 'small', exists } });
    assert.deepEqual(await denied([resource('db')], { team: { resources: { postgres: 29 } } }), []);
    assert.deepEqual(await denied([resource('db', true)], { team: { resources: { postgres: 30 } } }), [], 'an existing resource is not one more');
    assert.deepEqual(await denied([resource('db'), resource('db2')], { team: { resources: { postgres: 29 } } }), [
      'team-resource-quota: team payments already has 30 postgres resources and its quota is 30; db2 would be one more',
    ]);
    assert.deepEqual(await denied([check('resource.provision', env('development'), { resource: { name: 'files', type: 'dns', class: 'default' } })], { team: { resources: { dns: 500 } } }), [], 'types without a limit');
  });

  test('production-high-availability: production databases must be of class large', async () => {
    const db = (type: string, cls: string, where = env('production')) => [check('resource.provision', where, { resource: { name: 'db', type, class: cls, exists: true } })];
    assert.deepEqual(await denied(db('postgres', 'small'), { team: { resources: {} } }), [
      'production-high-availability: in production a postgres must be of class large (highly available, with backups), and db is small: attach it with size large',
    ]);
    assert.deepEqual(await denied(db('mysql', 'medium')).then((x) => x.length), 1);
    assert.deepEqual(await denied(db('postgres', 'large')), []);
    assert.deepEqual(await denied(db('redis', 'small')), [], 'caches are not databases');
    assert.deepEqual(await denied(db('postgres', 'small', env('staging'))), [], 'only production');
  });

  test('allowed-sizes: no large add-ons in development and previews', async () => {
    const attach = (size: string | undefined, where: { name: string; type: string }) => [check('addon.attach', where, { addon: { name: 'postgres', instance: 'db', version: '1.0.0', inputs: size ? { size } : {} } })];
    assert.deepEqual(await denied(attach('large', env('development', 'dev'))), [
      'allowed-sizes: postgres of size large is not allowed in development environments (shop has dev); allowed there: small, medium',
    ]);
    assert.deepEqual(await denied(attach('medium', env('development'))), []);
    assert.deepEqual(await denied(attach('large', env('staging'))), []);
    assert.deepEqual(await denied(attach(undefined, env('preview'))), [], 'an add-on without a size');
  });

  test('allowed-regions: production and staging in the EU (the region of the team profile)', async () => {
    const deploy = [check('deployment.create', env('production'), { deployment: { build: 3, replicas: 2 } })];
    assert.deepEqual(await denied(deploy, { overrides: { environment: { region: 'us-east-1' } } }), [
      'allowed-regions: production environments run in eu-west-1, eu-central-1, and the profile of team payments puts production in us-east-1',
    ]);
    assert.deepEqual(await denied(deploy, { overrides: { environment: { region: 'eu-west-1' } } }), []);
    assert.deepEqual(await denied(deploy, { overrides: { environment: { region: '' } } }), [], 'no region set');
  });

  test('production-change-window: weekdays only; rollbacks and admins may release outside it', async () => {
    const release = (kind = 'release', where = env('production')) => [check('release', where, { release: { kind, deployment: 4, build: 3 } })];
    assert.deepEqual(await denied(release(), { now: MONDAY }), []);
    assert.deepEqual(await denied(release(), { now: SUNDAY }), [
      'production-change-window: releases to production happen Monday, Tuesday, Wednesday, Thursday, Friday, from 0:00 to 24:00 (UTC), and it is 2026-11-22T10:00:00.000Z; wait for the window, roll back instead, or ask a platform admin',
    ]);
    assert.deepEqual(await denied(release('promote'), { now: SUNDAY }).then((x) => x.length), 1, 'a promotion is a release');
    assert.deepEqual(await denied(release('rollback'), { now: SUNDAY }), []);
    assert.deepEqual(await denied(release(), { now: SUNDAY, actor: admin }), []);
    assert.deepEqual(await denied(release('release', env('staging')), { now: SUNDAY }), []);
  });

  test('enforce: a 403 policy-denied naming each policy; the caller of the request is the actor', async () => {
    const checks = [check('release', env('production'), { release: { kind: 'release' } })];
    const sunday = Date.now; // enforce evaluates at the real time: make it a Sunday
    Date.now = () => SUNDAY.getTime();
    const RealDate = Date;
    globalThis.Date = class extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length) super(...(args as [string]));
        else super(SUNDAY.getTime());
      }
    } as DateConstructor;
    try {
      const err = await runAs(dev, () => engine.enforce(checks)).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof PaveError);
      assert.equal(err.status, 403);
      assert.equal(err.type, 'https://pave.dev/problems/policy-denied');
      assert.equal(err.title, 'Denied by policy');
      assert.match(err.message, /^denied by policy production-change-window: releases to production happen Monday/);
      assert.deepEqual(err.errors?.map((e) => [e.path, e.code]), [['policies.production-change-window', 'policy-denied']]);
      await runAs(admin, () => engine.enforce(checks));
    } finally {
      globalThis.Date = RealDate;
      Date.now = sunday;
    }
  });

  test('dry runs explain every policy, applicable or not', async () => {
    const { decisions, contexts } = await engine.decide([check('release', env('production'), { release: { kind: 'rollback' } })], { actor: dev, now: SUNDAY, explain: true, team: { applications: 0, resources: {} }, overrides: { environment: { region: '' } } });
    const byName = Object.fromEntries(decisions.map((d) => [d.policy, d]));
    assert.equal(Object.keys(byName).length, 6);
    assert.deepEqual([byName['production-change-window']!.applies, byName['production-change-window']!.denied, byName['production-change-window']!.why], [true, false, 'deny is false']);
    assert.equal(byName['team-application-quota']!.why, 'listens to application.create, not release');
    assert.equal(contexts.length, 1);
    assert.deepEqual((contexts[0]!.request as { release: unknown }).release, { kind: 'rollback', deployment: 0, build: 0, runtime: 'local' });
  });

  test('evaluating is fast: microseconds per policy', async () => {
    const checks = [check('addon.attach', env('development'), { addon: { name: 'redis', instance: 'cache', version: '1.0.0', inputs: { size: 'small' } } })];
    await denied(checks);
    const n = 2000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await engine.decide(checks, { actor: dev });
    const us = Number(process.hrtime.bigint() - started) / 1000 / n;
    assert.ok(us < 500, `${us.toFixed(1)} µs per request`);
  });
});

after(() => undefined);
