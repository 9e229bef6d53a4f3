/**
 * What else a deployment can start from and must honour: the Procfile's release phase, an archive or
 * an image registered by CI, and the replicas a team profile asks for in production.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Build, Deployment } from '../../src/contracts/deployments.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createApp, deploy, envBase, HELLO, json, status, viaRouter } from './helpers.ts';

describe('release phase, registered artifacts and replicas', { timeout: 120_000 }, () => {
  let s: TestServer;
  let tmp: string;
  before(async () => {
    s = await startTestServer();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pave-artifacts-'));
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
  });
  after(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the release phase runs once before a deployment is first released; when it fails nothing is released', async () => {
    await createApp(s, 'migrates');
    const src = path.join(tmp, 'migrates');
    cpSync(HELLO, src, { recursive: true });
    writeFileSync(path.join(src, 'release.js'), "console.log(`migrating for ${process.env.PAVE_DEPLOYMENT}`);\nif (process.env.RELEASE_FAIL === '1') { console.error('migration failed'); process.exit(4); }\n");
    writeFileSync(path.join(src, 'Procfile'), 'web: node server.js\nrelease: node release.js\n');
    const b = await json<Build>(await s.api('/api/v1/applications/migrates/builds', { method: 'POST', json: { path: src } }), 201);
    assert.equal(b.release, 'node release.js');
    assert.deepEqual(b.processes, { web: 'node server.js' });
    const good = await deploy(s, 'migrates', 'development', { release: true });
    assert.equal(good.released, true);
    assert.equal(good.releasePhase, 'succeeded');

    await json(await s.api(`${envBase('migrates', 'development')}/config`, { method: 'PATCH', json: { set: { RELEASE_FAIL: '1' } } }), 200);
    const res = await s.api(`${envBase('migrates', 'development')}/deployments`, { method: 'POST', json: { release: true } });
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { detail: string }).detail, /release phase .* failed: exited with code 4/);
    const list = await json<{ items: Deployment[] }>(await s.api(`${envBase('migrates', 'development')}/deployments`));
    assert.equal(list.items[0]!.releasePhase, 'failed');
    assert.ok(list.items[0]!.lastLogs.includes('migration failed'), list.items[0]!.lastLogs.join('\n'));
    assert.equal(list.items[0]!.released, false);
    assert.equal((await viaRouter(s.routerUrl, 'migrates-development.localhost')).body, `hello from ${good.id}\n`, 'what was serving keeps serving');
  });

  test('CI registers an archive it built, which deploys like a build; an image is recorded but refused by the local runtime', async () => {
    await createApp(s, 'from-ci');
    const archive = path.join(tmp, 'hello.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', HELLO, '.']);
    const registered = await json<Build>(await s.api('/api/v1/applications/from-ci/artifacts/archive', { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: readFileSync(archive) }), 201);
    assert.equal(registered.origin, 'registered');
    assert.equal(registered.status, 'succeeded');
    assert.deepEqual(registered.processes, { web: 'node server.js' });
    const d = await deploy(s, 'from-ci', 'development', { build: registered.number, release: true });
    assert.equal(d.status, 'healthy', d.error ?? '');
    assert.equal((await viaRouter(s.routerUrl, 'from-ci-development.localhost')).body, `hello from ${d.id}\n`);

    const image = `registry.example.com/from-ci@sha256:${'ab'.repeat(32)}`;
    const img = await json<Build>(await s.api('/api/v1/applications/from-ci/artifacts', { method: 'POST', json: { image } }), 201);
    assert.deepEqual(img.artifact, { kind: 'image', digest: `sha256:${'ab'.repeat(32)}`, image });
    const refused = await s.api(`${envBase('from-ci', 'development')}/deployments`, { method: 'POST', json: { build: img.number } });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { detail: string }).detail, /container runtimes/);
    const bad = await s.api('/api/v1/applications/from-ci/artifacts', { method: 'POST', json: { image: 'registry.example.com/app:latest' } });
    assert.equal(bad.status, 400, 'an image must be pinned by digest');
    const notGzip = await s.api('/api/v1/applications/from-ci/artifacts/archive', { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: 'not a tarball' });
    assert.equal(notGzip.status, 409);
    assert.equal((await status(s, 'from-ci', 'development')).released!.id, d.id, 'nothing changed what runs');
  });

  test('production gets the replicas of the team profile, and the router balances over them', async () => {
    await createApp(s, 'scaled', { environments: [{ name: 'production', type: 'production' }] });
    await json(await s.api('/api/v1/applications/scaled/builds', { method: 'POST', json: { path: HELLO } }), 201);
    const d = await deploy(s, 'scaled', 'production', { release: true });
    assert.deepEqual(d.processes.map((p) => [p.type, p.replica]), [['web', 0], ['web', 1]]);
    const ports = new Set<string>();
    for (let i = 0; i < 4; i++) ports.add((JSON.parse((await viaRouter(s.routerUrl, 'scaled-production.localhost', '/env')).body) as { PORT: string }).PORT);
    assert.equal(ports.size, 2, 'both replicas take requests');
  });
});
