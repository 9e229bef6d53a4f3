/**
 * Deployments on the GitOps target through Pave's API, end to end with real git repositories: a bare
 * remote on disk (as a git server holds it: reflog on, non-fast-forward pushes refused) that the team
 * profile names for staging, and Pave's working clone in its data directory. A deployment is rendered
 * and recorded when deployed, committed (and pushed) when released: one commit per released
 * deployment, its message naming application, environment, build and author; a rollback is a new
 * commit restoring the earlier deployment's files; deleting the environment commits the removal of its
 * folder. History is never rewritten (the remote's reflog only moves forward).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { Deployment, EnvironmentStatus, Release } from '../../src/contracts/deployments.ts';
import { envBase, json } from '../deployments/helpers.ts';
import type { TestServer } from '../support/server.ts';
import { image, serverWithProfiles } from './support.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const FOLDER = 'clusters/eu-west-1/staging/shop';

describe('GitOps target: deployments through the API into real git repositories', { timeout: 120_000 }, () => {
  let tmp: string;
  let remote: string;
  let s: TestServer;
  const commits: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const post = (p: string, body: unknown) => s.api(p, { method: 'POST', json: body });
  const headOrNull = () => {
    try {
      return git(remote, 'rev-parse', '--verify', '--quiet', 'refs/heads/main');
    } catch {
      return null;
    }
  };

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pave-gitops-deploy-'));
    remote = path.join(tmp, 'deploy.git');
    git(tmp, 'init', '--quiet', '--bare', '-b', 'main', remote);
    git(remote, 'config', 'core.logAllRefUpdates', 'true');
    git(remote, 'config', 'receive.denyNonFastForwards', 'true');
    const profile = `
apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: team-git }
spec:
  team: team-git
  environments:
    staging:
      runtime: gitops
      replicas: 2
      cluster:
        name: eu-west-1
        domain: apps.example.com
        gitops: { remote: "${remote}", branch: main }
`;
    ({ s } = await serverWithProfiles({ 'team-git': profile }, {}));
    await json(await post('/api/v1/teams', { name: 'team-git' }), 201);
    await json(await post('/api/v1/applications', { name: 'shop', owner: 'team-git', template: 'node-service', environments: [{ name: 'staging', type: 'staging' }] }), 201);
    await json(await s.api(`${envBase('shop', 'staging')}/config`, { method: 'PATCH', json: { set: { FEATURE: 'on' }, secrets: { API_KEY: 'k-gitops-1' } } }), 200);
  });
  after(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('deploy without release: rendered and recorded, nothing committed yet', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 1) }), 201);
    const d = await json<Deployment>(await post(`${envBase('shop', 'staging')}/deployments`, {}), 201);
    assert.equal(d.status, 'healthy', d.error ?? '');
    assert.equal(d.runtime, 'gitops');
    assert.deepEqual(d.target, { runtime: 'gitops', cluster: 'eu-west-1', location: remote, namespace: 'shop-staging', branch: 'main', commit: null });
    assert.deepEqual(d.objects!.map((o) => `${o.state} ${o.object}`), [
      `rendered ${FOLDER}/namespace-shop-staging.yaml`, `rendered ${FOLDER}/deployment-shop-1.yaml`, `rendered ${FOLDER}/service-shop.yaml`,
      `rendered ${FOLDER}/httproute-shop.yaml`, `rendered ${FOLDER}/kustomization.yaml`, 'omitted Secret shop-staging/shop-1-env',
    ]);
    assert.equal(headOrNull(), null, 'the remote has no commit yet');
    ids.d1 = d.id;
  });

  test('release: one commit in clusters/<cluster>/<env>/<app>/, pushed, naming application, environment, build and author', async () => {
    const r = await json<Release>(await post(`${envBase('shop', 'staging')}/release`, { deployment: 1 }), 200);
    assert.equal(r.deployment.released, true);
    assert.equal(r.url, 'https://shop-staging.apps.example.com');
    commits.d1 = git(remote, 'rev-parse', 'main');
    assert.equal(r.deployment.target!.commit, commits.d1);
    assert.equal(git(remote, 'rev-list', '--count', 'main'), '1');
    const msg = git(remote, 'log', '-1', '--format=%B', 'main');
    assert.match(msg, new RegExp(`^Deploy application:default/shop to staging: deployment 1, build 1 \\(${image('shop', 1).replace(/[.@]/g, '\\$&')}\\), by admin`));
    assert.match(msg, new RegExp(`Pave-Deployment: ${ids.d1}`));
    assert.match(msg, /Secrets not committed \(the cluster must provide them\):\n- shop-1-env \(keys: API_KEY\)/);
    assert.equal(git(remote, 'log', '-1', '--format=%an', 'main'), 'admin');
    assert.deepEqual(git(remote, 'ls-tree', '-r', '--name-only', 'main').split('\n').sort(), [
      'clusters/eu-west-1/kustomization.yaml', 'clusters/eu-west-1/staging/kustomization.yaml',
      ...['deployment-shop-1.yaml', 'httproute-shop.yaml', 'kustomization.yaml', 'namespace-shop-staging.yaml', 'service-shop.yaml'].map((f) => `${FOLDER}/${f}`),
    ].sort());
    const dep = parse(git(remote, 'show', `main:${FOLDER}/deployment-shop-1.yaml`)) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.template.spec.containers[0]!.image, image('shop', 1));
    assert.throws(() => git(remote, 'grep', '-I', '-e', 'k-gitops-1', '-e', Buffer.from('k-gitops-1').toString('base64'), 'main'), 'no secret value in the repository');
    assert.deepEqual(r.deployment.objects!.filter((o) => o.state === 'committed').length, 5);
  });

  test('a second deployment released at once: a second commit that replaces the first one\'s files', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 2) }), 201);
    const d = await json<Deployment>(await post(`${envBase('shop', 'staging')}/deployments`, { release: true }), 201);
    assert.equal(d.released, true);
    ids.d2 = d.id;
    commits.d2 = git(remote, 'rev-parse', 'main');
    assert.equal(git(remote, 'rev-parse', 'main^'), commits.d1);
    assert.match(git(remote, 'log', '-1', '--format=%s', 'main'), /^Deploy application:default\/shop to staging: deployment 2, build 2 /);
    const files = git(remote, 'ls-tree', '--name-only', `main:${FOLDER}`).split('\n');
    assert.ok(files.includes('deployment-shop-2.yaml') && !files.includes('deployment-shop-1.yaml'), files.join(' '));
    await s.services.deployments.idle();
    assert.equal((await json<Deployment>(await s.api(`${envBase('shop', 'staging')}/deployments/1`), 200)).running, 'stopped');
  });

  test('rollback: a new commit restoring exactly the earlier deployment\'s files; history is not rewritten', async () => {
    const r = await json<Release>(await post(`${envBase('shop', 'staging')}/rollback`, {}), 200);
    assert.equal(r.kind, 'rollback');
    assert.equal(r.deployment.id, ids.d1);
    commits.rollback = git(remote, 'rev-parse', 'main');
    assert.equal(git(remote, 'rev-parse', 'main^'), commits.d2, 'on top of the history');
    assert.equal(git(remote, 'rev-parse', `main:${FOLDER}`), git(remote, 'rev-parse', `${commits.d1}:${FOLDER}`), 'the folder is deployment 1\'s, byte for byte');
    const msg = git(remote, 'log', '-1', '--format=%B', 'main');
    assert.match(msg, /^Roll back application:default\/shop in staging to deployment 1 \(build 1 \(.*\)\), by admin/);
    assert.match(msg, new RegExp(`Restores the files of commit ${commits.d1}`));
    assert.equal(r.deployment.target!.commit, commits.rollback);
  });

  test('status: the runtime, the repository, and whether the folder holds the released deployment', async () => {
    const st = await json<EnvironmentStatus>(await s.api(`${envBase('shop', 'staging')}/status`), 200);
    assert.equal(st.runtime, 'gitops');
    assert.deepEqual(st.target, { runtime: 'gitops', source: 'team profile', cluster: 'eu-west-1', location: remote, namespace: null, problem: null });
    assert.equal(st.status, 'committed');
    assert.equal(st.released!.id, ids.d1);
    assert.ok(st.objects!.filter((o) => o.kind === 'File').every((o) => o.state === 'committed' && o.detail?.includes(commits.rollback!.slice(0, 12))), JSON.stringify(st.objects));
  });

  test('a rollback to a deployment that was never committed commits its recorded objects, as a rollback', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 3) }), 201);
    const d3 = await json<Deployment>(await post(`${envBase('shop', 'staging')}/deployments`, {}), 201);
    assert.equal(git(remote, 'rev-parse', 'main'), commits.rollback, 'deploying commits nothing');
    const r = await json<Release>(await post(`${envBase('shop', 'staging')}/rollback`, { to: d3.number }), 200);
    assert.equal(r.deployment.id, d3.id);
    commits.d3 = git(remote, 'rev-parse', 'main');
    assert.equal(git(remote, 'rev-parse', 'main^'), commits.rollback);
    assert.match(git(remote, 'log', '-1', '--format=%s', 'main'), /^Roll back application:default\/shop in staging to deployment 3 \(build 3 /);
    assert.ok(git(remote, 'ls-tree', '--name-only', `main:${FOLDER}`).split('\n').includes('deployment-shop-3.yaml'));
  });

  test('deleting the environment commits the removal of its folder; the remote\'s branch only ever moved forward', async () => {
    const res = await s.api(envBase('shop', 'staging'), { method: 'DELETE' });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(git(remote, 'rev-parse', 'main^'), commits.d3);
    assert.match(git(remote, 'log', '-1', '--format=%s', 'main'), /^Remove application:default\/shop from staging \(last deployment 3, build 3 \(registry\.example\.com\/shop@sha256:3{64}\)\), by pave$/);
    assert.equal(git(remote, 'ls-tree', '-r', '--name-only', 'main'), '', 'nothing of the application is left');
    const values = git(remote, 'reflog', 'show', '--format=%H', 'refs/heads/main').split('\n').reverse();
    assert.equal(values.length, 5);
    for (let i = 1; i < values.length; i++) git(remote, 'merge-base', '--is-ancestor', values[i - 1]!, values[i]!);
  });
});
