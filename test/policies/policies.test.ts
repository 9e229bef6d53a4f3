/**
 * Policies end to end, on a real server with a platform folder of its own: each guarded request
 * (application creation, add-on attachment, provisioning, release, action run) refused with a 403
 * naming the policy and its reason, and nothing written; the change window from outside and from
 * inside; a broken policy reported while the others hold; the dry run showing every decision.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { PolicyTestResult, PolicyView } from '../../src/contracts/policies.ts';
import { LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM } from '../../src/services.ts';
import { cliSandbox } from '../cli/helpers.ts';
import { HELLO, envBase, json } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string; code?: string }[];
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

describe('policies', { timeout: 120_000 }, () => {
  let s: TestServer;
  let platform: string;
  let dana: string;
  const asDana = (init: RequestInit & { json?: unknown } = {}) => ({ ...init, headers: { authorization: `Bearer ${dana}` } });

  /** A change window of these days (the sample's, admins exempt), written into the platform and synced. */
  async function changeWindow(days: string[]): Promise<void> {
    writeFileSync(
      path.join(platform, 'policies/production-change-window.yaml'),
      `apiVersion: pave.dev/v1
kind: Policy
metadata:
  name: production-change-window
spec:
  on: [release]
  environmentTypes: [production]
  params: { timeZone: UTC, days: ${JSON.stringify(days)} }
  deny: >-
    request.release.kind != "rollback" && !("admin" in request.actor.roles) &&
    !(${JSON.stringify(DAYS)}[now.getDayOfWeek(params.timeZone)] in params.days)
  message: releases to production happen on \${params.days} (\${params.timeZone})
`,
    );
    await json(await s.api('/api/v1/platform/sync', { method: 'POST' }), 200);
  }

  async function expectDenied(res: Response, policy: string, reason: RegExp): Promise<Problem> {
    assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/problem+json');
    const p = await json<Problem>(res, 403);
    assert.equal(p.type, 'https://pave.dev/problems/policy-denied');
    assert.equal(p.title, 'Denied by policy');
    assert.match(p.detail, new RegExp(`^denied by policy ${policy}: `));
    assert.match(p.detail, reason);
    assert.ok(p.errors?.some((e) => e.path === `policies.${policy}` && e.code === 'policy-denied' && reason.test(e.message)), JSON.stringify(p.errors));
    return p;
  }

  before(async () => {
    platform = mkdtempSync(path.join(os.tmpdir(), 'pave-policies-platform-'));
    cpSync(SAMPLE_PLATFORM, platform, { recursive: true });
    // a small quota, for everyone; the sample's other policies as they ship
    writeFileSync(
      path.join(platform, 'policies/team-quotas.yaml'),
      `apiVersion: pave.dev/v1
kind: Policy
metadata:
  name: team-application-quota
spec:
  on: [application.create]
  params: { max: 2 }
  deny: request.application.team != "" && team.applications >= params.max
  message: team \${team.name} already has \${team.applications} applications and its quota is \${params.max}
---
apiVersion: pave.dev/v1
kind: Policy
metadata:
  name: no-smoke-tests-in-production
spec:
  on: [action.run]
  environmentTypes: [production]
  deny: request.action.id == "smoke-test" && request.action.params.path != "/healthz"
  message: in production, \${request.action.id} may only GET /healthz (not \${request.action.params.path})
`,
    );
    // outside the window: every day but today and tomorrow (UTC)
    const today = new Date().getUTCDay();
    writeFileSync(path.join(platform, 'policies/production-change-window.yaml'), '');
    s = await startTestServer({ platform });
    await changeWindow(DAYS.filter((_, i) => i !== today && i !== (today + 1) % 7));
    for (const [k, v] of Object.entries(LOCAL_SERVICE_SECRETS)) await s.services.secrets.seed(k, v);
    for (const team of ['team-a', 'quota-team']) await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: team } }), 201);
    await json(await s.api('/api/v1/users', { method: 'POST', json: { name: 'dana' } }), 201);
    dana = (await json<{ token: string }>(await s.api('/api/v1/users/dana/tokens', { method: 'POST', json: { name: 'policies' } }), 201)).token;
    // dana may deploy and release team-a's applications in production (as far as access control goes)
    await json(await s.api('/api/v1/role-bindings', { method: 'POST', json: { subject: 'user:dana', role: 'deployer', team: 'team-a', environmentTypes: ['production'] } }), 201);
    const envs = [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }];
    for (const name of ['shop', 'store']) await json(await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'team-a', template: 'node-service', environments: envs } }), 201);
  });
  after(async () => {
    if (s) {
      for (const app of ['shop', 'store', 'q1', 'q2']) await s.api(`/api/v1/applications/${app}`, { method: 'DELETE' }).catch(() => undefined);
      await s.close();
    }
    rmSync(platform, { recursive: true, force: true });
  });

  test('the policies in force are listed, with their source', async () => {
    const { items, errors } = await json<{ items: PolicyView[]; errors: unknown[] }>(await s.api('/api/v1/policies'), 200);
    assert.deepEqual(items.map((p) => p.name), ['allowed-regions', 'allowed-sizes', 'no-smoke-tests-in-production', 'production-change-window', 'production-high-availability', 'team-application-quota']);
    const quota = items.find((p) => p.name === 'team-application-quota')!;
    assert.deepEqual(quota.on, ['application.create']);
    assert.deepEqual(quota.params, { max: 2 });
    assert.match(quota.source, /:policies\/team-quotas\.yaml$/);
    assert.equal(quota.onError, 'deny');
    assert.deepEqual(errors, []);
  });

  test('application creation over the quota: 403 naming the policy, and nothing created', async () => {
    const create = (name: string) => s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'quota-team', template: 'node-service', environments: [{ name: 'development', type: 'development' }, { name: 'staging', type: 'staging' }] } });
    await json(await create('q1'), 201);
    await json(await create('q2'), 201);
    const p = await expectDenied(await create('q3'), 'team-application-quota', /team quota-team already has 2 applications and its quota is 2/);
    assert.equal(p.errors?.length, 1, 'one reason, though the request concerns two environments');
    assert.equal((await s.api('/api/v1/applications/q3')).status, 404);
    const rows = await s.store.db.selectFrom('entities').select('ref').where('name', '=', 'q3').execute();
    assert.deepEqual(rows, []);
    const audited = await s.store.db.selectFrom('audit_events').select(['actor', 'target', 'outcome', 'details']).where('action', '=', 'policy.denied').where('target', 'like', 'application:default/q3%').execute();
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.actor, 'user:default/admin');
    assert.equal((audited[0]!.details as { policies: { name: string }[] }).policies[0]!.name, 'team-application-quota');
  });

  test('attaching an add-on of a size its environments do not allow: 403, nothing attached', async () => {
    const attach = (inputs: Record<string, unknown>) => s.api('/api/v1/applications/store/addons', { method: 'POST', json: { addon: 'postgres', name: 'db', inputs } });
    await expectDenied(await attach({ size: 'large' }), 'allowed-sizes', /postgres of size large is not allowed in development environments \(store has development\); allowed there: small, medium/);
    const gp = await json<{ addons: unknown[] }>(await s.api('/api/v1/applications/store/golden-path'), 200);
    assert.deepEqual(gp.addons, []);
    // small is allowed everywhere: attached
    await json(await attach({ size: 'small' }), 201);
  });

  test('provisioning a production database that is not highly available: 403 from apply, nothing provisioned', async () => {
    const plan = await json<{ errors: string[] }>(await s.api(`${envBase('store', 'production')}/plan`, { method: 'POST' }), 200);
    assert.match(plan.errors.join('\n'), /denied by policy production-high-availability: in production a postgres must be of class large/);
    await expectDenied(await s.api(`${envBase('store', 'production')}/apply`, { method: 'POST' }), 'production-high-availability', /db is small: attach it with size large/);
    const resources = await json<{ items: unknown[] }>(await s.api(`${envBase('store', 'production')}/resources`), 200);
    assert.deepEqual(resources.items, []);
  });

  test('a release to production outside the change window: 403 for a developer; inside it (or as an admin), released', async () => {
    await json(await s.api('/api/v1/applications/shop/builds', { method: 'POST', json: { path: HELLO } }), 201);
    const d = await json<{ number: number; status: string }>(await s.api(`${envBase('shop', 'production')}/deployments`, { method: 'POST', json: {} }), 201);
    assert.equal(d.status, 'healthy');
    const release = (token?: string) => s.api(`${envBase('shop', 'production')}/release`, { method: 'POST', json: { deployment: d.number }, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    await expectDenied(await release(dana), 'production-change-window', /releases to production happen on/);
    // deploy-and-release is refused up front, before anything starts
    const before = (await json<{ items: unknown[] }>(await s.api(`${envBase('shop', 'production')}/deployments`, asDana()), 200)).items.length;
    await expectDenied(await s.api(`${envBase('shop', 'production')}/deployments`, { method: 'POST', json: { release: true }, headers: { authorization: `Bearer ${dana}` } }), 'production-change-window', /releases to production/);
    assert.equal((await json<{ items: unknown[] }>(await s.api(`${envBase('shop', 'production')}/deployments`), 200)).items.length, before, 'no deployment was made');
    const status = await json<{ released: unknown }>(await s.api(`${envBase('shop', 'production')}/status`), 200);
    assert.equal(status.released, null);

    // the platform team opens the window: the same developer's release goes through
    await changeWindow(DAYS);
    const released = await json<{ deployment: { number: number; released: boolean } }>(await release(dana), 200);
    assert.equal(released.deployment.released, true);
    // and an admin may release outside it (break glass)
    await changeWindow([]);
    await json(await release(), 200);
  });

  test('an action run denied by a policy: 403, no run recorded, audited', async () => {
    const run = (params: Record<string, unknown>) => s.api(`${envBase('shop', 'production')}/actions/smoke-test/runs?wait=true`, { method: 'POST', json: { params } });
    await expectDenied(await run({ path: '/admin' }), 'no-smoke-tests-in-production', /in production, smoke-test may only GET \/healthz \(not \/admin\)/);
    const runs = await json<{ items: unknown[] }>(await s.api('/api/v1/applications/shop/runs'), 200);
    assert.deepEqual(runs.items, []);
    const audited = await s.store.db.selectFrom('audit_events').select(['action', 'outcome']).where('target', 'like', '%/production/smoke-test').where('outcome', '=', 'denied').execute();
    assert.deepEqual(audited.map((a) => a.action).sort(), ['action.run', 'policy.denied']);
    // the same action, within the policy, runs
    const ok = await json<{ status: string }>(await run({ path: '/healthz' }), 201);
    assert.equal(ok.status, 'succeeded');
  });

  test('POST /api/v1/policies/test shows every decision and why, and does nothing', async () => {
    const dry = (body: Record<string, unknown>) => s.api('/api/v1/policies/test', { method: 'POST', json: body });
    const sunday = '2026-11-22T10:00:00Z';
    await changeWindow(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']);
    const r = await json<PolicyTestResult>(await dry({ event: 'release', application: 'shop', environment: 'production', now: sunday, request: { actor: { roles: [] } } }), 200);
    assert.equal(r.allowed, false);
    assert.equal(r.decisions.length, 6, 'every policy');
    const window = r.decisions.find((d) => d.policy === 'production-change-window')!;
    assert.deepEqual([window.applies, window.denied, window.why, window.environment], [true, true, 'deny is true', 'production']);
    assert.equal(window.message, 'releases to production happen on Monday, Tuesday, Wednesday, Thursday, Friday (UTC)');
    assert.equal(r.decisions.find((d) => d.policy === 'allowed-sizes')!.why, 'listens to addon.attach, not release');
    assert.equal((r.contexts[0]!.request as { application: { team: string } }).application.team, 'team-a');
    // the caller's roles here come from their bindings: dana is a deployer of team-a in production
    const asDanaDry = await json<PolicyTestResult>(await s.api('/api/v1/policies/test', { method: 'POST', json: { event: 'release', application: 'shop', environment: 'production', now: sunday }, headers: { authorization: `Bearer ${dana}` } }), 200);
    assert.deepEqual((asDanaDry.contexts[0]!.request as { actor: unknown }).actor, { user: 'user:default/dana', roles: ['deployer'] });
    assert.equal(asDanaDry.allowed, false);
    // as the caller (an admin), allowed; a rollback too
    assert.equal((await json<PolicyTestResult>(await dry({ event: 'release', application: 'shop', environment: 'production', now: sunday }), 200)).allowed, true);
    assert.equal((await json<PolicyTestResult>(await dry({ event: 'release', application: 'shop', environment: 'production', now: sunday, request: { actor: { roles: [] }, release: { kind: 'rollback' } } }), 200)).allowed, true);

    // an existing application's environments are each evaluated; its declared resources too
    const prov = await json<PolicyTestResult>(await dry({ event: 'resource.provision', application: 'store' }), 200);
    const ha = prov.decisions.filter((d) => d.policy === 'production-high-availability');
    assert.deepEqual(ha.map((d) => [d.environment, d.subject, d.applies, d.denied]), [['development', 'db', false, false], ['production', 'db', true, true]]);

    // a hypothetical creation: the team's real count
    const create = await json<PolicyTestResult>(await dry({ event: 'application.create', request: { application: { name: 'q9', team: 'quota-team' }, environments: [{ name: 'development', type: 'development' }] } }), 200);
    assert.equal(create.allowed, false);
    assert.match(create.decisions.find((d) => d.policy === 'team-application-quota')!.message!, /quota-team already has 2 applications/);
    const assumed = await json<PolicyTestResult>(await dry({ event: 'application.create', request: { application: { name: 'q9', team: 'quota-team' } }, team: { applications: 0 } }), 200);
    assert.equal(assumed.allowed, true);

    // nothing was done
    assert.equal((await s.api('/api/v1/applications/q9')).status, 404);
    assert.equal((await dry({ event: 'release', application: 'nope' })).status, 404);
    assert.equal((await dry({ event: 'deploy' })).status, 400);
  });

  test('pave policy list and pave policy test', async () => {
    const cli = cliSandbox();
    const env = { PAVE_URL: s.url, PAVE_TOKEN: s.token };
    try {
      const list = await cli.run(['policy', 'list'], { env });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^production-change-window\s+r\d+\s+release\s+production\s+/m);
      const denied = await cli.run(['policy', 'test', 'release', '--app', 'shop', '--env', 'production', '--now', '2026-11-22T10:00:00Z', '--set', 'actor.roles=[]'], { env });
      assert.equal(denied.code, 1, denied.stderr);
      assert.match(denied.stdout, /^production-change-window\s+production\s+-\s+DENY\s+releases to production happen on Monday, Tuesday, Wednesday, Thursday, Friday \(UTC\)$/m);
      assert.match(denied.stdout, /^allowed-sizes\s+production\s+-\s+n\/a\s+listens to addon.attach, not release$/m);
      assert.match(denied.stdout, /Denied: production-change-window\.$/m);
      const allowed = await cli.run(['policy', 'test', 'addon.attach', '--app', 'shop', '--set', 'addon.name=redis', '--set', 'addon.inputs.size=medium', '-o', 'json'], { env });
      assert.equal(allowed.code, 0, allowed.stderr);
      const r = JSON.parse(allowed.stdout) as PolicyTestResult;
      assert.equal(r.allowed, true);
      assert.deepEqual([...new Set(r.decisions.map((d) => d.environment))], ['development', 'production']);
    } finally {
      cli.cleanup();
    }
  });

  test('a policy that does not compile is reported with file and line, and blocks nothing else', async () => {
    writeFileSync(path.join(platform, 'policies/broken.yaml'), 'apiVersion: pave.dev/v1\nkind: Policy\nmetadata:\n  name: broken\nspec:\n  on: [application.create]\n  deny: team.applications >=\n  message: never\n');
    const report = await json<{ errors: { file: string; line: number; path: string; message: string }[] }>(await s.api('/api/v1/platform/sync', { method: 'POST' }), 200);
    assert.deepEqual(report.errors.map((e) => [e.file, e.line, e.path]), [['policies/broken.yaml', 7, 'spec.deny']]);
    assert.match(report.errors[0]!.message, /^CEL: column \d+: syntax error/);
    const listed = await json<{ items: PolicyView[]; errors: { file: string; line: number }[] }>(await s.api('/api/v1/policies'), 200);
    assert.deepEqual(listed.errors.map((e) => [e.file, e.line]), [['policies/broken.yaml', 7]]);
    assert.ok(!listed.items.some((p) => p.name === 'broken'));
    // what the API answers is what it documents
    const doc = await json<{ paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>>; components: unknown }>(await s.api('/api/v1/openapi.json'), 200);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'api', components: doc.components });
    const conforms = (p: string, method: string, status: string, value: unknown) => {
      const schema = JSON.parse(JSON.stringify(doc.paths[p]![method]!.responses[status]!.content['application/json']!.schema).replaceAll('"#/components/', '"api#/components/')) as object;
      const validate = ajv.compile(schema);
      assert.ok(validate(value), `${method} ${p}: ${JSON.stringify(validate.errors)}`);
    };
    conforms('/api/v1/platform/sync', 'post', '200', report);
    conforms('/api/v1/policies', 'get', '200', listed);
    conforms('/api/v1/policies/test', 'post', '200', await json(await s.api('/api/v1/policies/test', { method: 'POST', json: { event: 'resource.provision', application: 'store' } }), 200));
    // the others still hold
    await expectDenied(
      await s.api('/api/v1/applications', { method: 'POST', json: { name: 'q4', owner: 'quota-team', template: 'node-service' } }),
      'team-application-quota',
      /quota is 2/,
    );
    rmSync(path.join(platform, 'policies/broken.yaml'));
    await json(await s.api('/api/v1/platform/sync', { method: 'POST' }), 200);
  });
});
