/**
 * The GitOps target end to end with real git repositories on disk: a bare "remote" (as a git server
 * holds it, with its reflog on and non-fast-forward pushes refused), Pave's clone, and a second
 * person's clone that pushes meanwhile. Commits, pushes, idempotence, rollback as a new commit,
 * history, and that the remote's branch only ever moved forward (no force push).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { GitOpsWriter, gitopsFolder, type GitOpsChange } from '../../src/targets/gitops.ts';
import { renderKubernetes } from '../../src/targets/kubernetes/render.ts';
import type { ScoreWorkload } from '../../src/workloads/score.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Bob', GIT_AUTHOR_EMAIL: 'bob@example.com', GIT_COMMITTER_NAME: 'Bob', GIT_COMMITTER_EMAIL: 'bob@example.com' } }).trim();

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1', metadata: { name: 'shop' },
  containers: { web: { image: '.', variables: { PORT: '8080' } } },
  service: { ports: { web: { port: 80, targetPort: 8080 } } },
};

const IDS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];

function change(n: 1 | 2, extra: Partial<GitOpsChange> = {}): GitOpsChange {
  const image = `registry.example.com/shop@sha256:${String(n).repeat(64)}`;
  const r = renderKubernetes({
    application: { namespace: 'default', name: 'shop' }, environment: { name: 'production', type: 'production' }, deployment: { id: IDS[n - 1]!, number: n },
    workload, secretVariables: [], secretFiles: [], image, main: { variables: { PORT: '8080', API_KEY: `key-${n}` }, secretNames: ['API_KEY'] },
    profile: { replicas: 2 }, released: true, route: { host: 'shop.example.com' },
  });
  assert.deepEqual(r.errors, []);
  return { cluster: 'eu-west-1', application: 'application:default/shop', environment: 'production', deployment: { id: IDS[n - 1]!, number: n }, build: `${n + 6} (${image})`, author: 'user:default/alice', objects: r.objects, ...extra };
}

describe('GitOps target with real git repositories', () => {
  let tmp: string;
  let remote: string;
  let writer: GitOpsWriter;
  const folder = gitopsFolder('eu-west-1', 'production', 'application:default/shop');
  const commits: Record<string, string> = {};
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pave-gitops-'));
    remote = path.join(tmp, 'remote.git');
    git(tmp, 'init', '--quiet', '--bare', '-b', 'main', remote);
    git(remote, 'config', 'core.logAllRefUpdates', 'true');
    git(remote, 'config', 'receive.denyNonFastForwards', 'true');
    writer = new GitOpsWriter({ dir: path.join(tmp, 'pave-clone'), remote });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('a deployment is one commit in clusters/<cluster>/<environment>/<app>/, pushed to the remote', async () => {
    const res = await writer.write(change(1));
    assert.equal(res.folder, 'clusters/eu-west-1/production/shop');
    assert.equal(res.changed, true);
    assert.equal(res.pushed, true);
    assert.deepEqual(res.files, ['namespace-shop-production.yaml', 'deployment-shop-1.yaml', 'service-shop.yaml', 'httproute-shop.yaml', 'kustomization.yaml']);
    assert.deepEqual(res.omitted, ['shop-1-env (keys: API_KEY)']);
    commits.d1 = res.commit!;
    assert.equal(git(remote, 'rev-parse', 'main'), res.commit, 'the remote has the commit');
    const tree = git(remote, 'ls-tree', '-r', '--name-only', 'main').split('\n');
    assert.deepEqual(tree.sort(), [
      'clusters/eu-west-1/kustomization.yaml', 'clusters/eu-west-1/production/kustomization.yaml',
      ...res.files.map((f) => `${folder}/${f}`),
    ].sort());
    // the message names application, environment, build and author; trailers carry the same
    const msg = git(remote, 'log', '-1', '--format=%B', 'main');
    assert.match(msg, /^Deploy application:default\/shop to production: deployment 1, build 7 \(registry\.example\.com\/shop@sha256:1{64}\), by alice/);
    assert.match(msg, /Pave-Deployment: 11111111-1111-4111-8111-111111111111/);
    assert.match(msg, /Secrets not committed \(the cluster must provide them\):\n- shop-1-env \(keys: API_KEY\)/);
    assert.equal(git(remote, 'log', '-1', '--format=%an <%ae>', 'main'), 'alice <alice@users.pave.invalid>');
    assert.throws(() => git(remote, 'grep', '-I', '-e', 'key-1', '-e', Buffer.from('key-1').toString('base64'), 'main'), 'no secret value in the repository (git grep finds nothing)');
  });

  test('the folder is what Argo CD and Flux read: kustomizations at every level, sync waves, valid YAML', async () => {
    const show = (p: string) => git(remote, 'show', `main:${p}`);
    assert.deepEqual(parse(show(`${folder}/kustomization.yaml`)), {
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
      resources: ['namespace-shop-production.yaml', 'deployment-shop-1.yaml', 'service-shop.yaml', 'httproute-shop.yaml'],
    });
    assert.deepEqual(parse(show('clusters/eu-west-1/production/kustomization.yaml')).resources, ['shop']);
    assert.deepEqual(parse(show('clusters/eu-west-1/kustomization.yaml')).resources, ['production']);
    const d = parseAllDocuments(show(`${folder}/deployment-shop-1.yaml`)).map((x) => x.toJS() as { kind: string; metadata: { annotations: Record<string, string> } });
    assert.equal(d.length, 1);
    assert.equal(d[0]!.metadata.annotations['argocd.argoproj.io/sync-wave'], '0');
    assert.equal((parse(show(`${folder}/service-shop.yaml`)) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['argocd.argoproj.io/sync-wave'], '1', 'the release switches after the workload is healthy');
  });

  test('the same content again makes no commit', async () => {
    const res = await writer.write(change(1));
    assert.equal(res.changed, false);
    assert.equal(res.commit, commits.d1);
    assert.equal(git(remote, 'rev-list', '--count', 'main'), '1');
  });

  test('someone else\'s push meanwhile is kept: Pave rebases on it and pushes, never forces', async () => {
    const other = path.join(tmp, 'other');
    git(tmp, 'clone', '--quiet', remote, other);
    mkdirSync(path.join(other, 'docs'));
    writeFileSync(path.join(other, 'docs/README.md'), 'hand-written\n');
    git(other, 'add', '.');
    git(other, 'commit', '--quiet', '-m', 'docs: a note');
    git(other, 'push', '--quiet', 'origin', 'main');
    commits.other = git(other, 'rev-parse', 'HEAD');
    const res = await writer.write(change(2));
    assert.equal(res.changed, true);
    assert.equal(res.pushed, true);
    commits.d2 = res.commit!;
    git(remote, 'merge-base', '--is-ancestor', commits.other, 'main'); // throws when not an ancestor
    assert.ok(res.files.includes('deployment-shop-2.yaml') && !res.files.includes('deployment-shop-1.yaml'), 'the new deployment\'s objects replace the old ones');
    assert.equal(git(remote, 'show', 'main:docs/README.md'), 'hand-written');
  });

  test('a rollback is a new commit restoring exactly the earlier deployment\'s files', async () => {
    const res = await writer.rollback({ ...change(1), author: 'user:default/carol' });
    assert.equal(res.changed, true);
    assert.equal(res.restored, commits.d1);
    assert.equal(res.pushed, true);
    assert.equal(git(remote, 'rev-parse', `main:${folder}`), git(remote, 'rev-parse', `${commits.d1}:${folder}`), 'the folder\'s tree is deployment 1\'s, byte for byte');
    assert.equal(git(remote, 'rev-parse', 'main^'), commits.d2, 'on top of history, which is not rewritten');
    const msg = git(remote, 'log', '-1', '--format=%B', 'main');
    assert.match(msg, /^Roll back application:default\/shop in production to deployment 1 \(build 7 \(.*\)\), by carol/);
    assert.match(msg, new RegExp(`Restores the files of commit ${commits.d1}`));
    commits.rollback = res.commit!;
  });

  test('history of the folder, newest first, from a fresh clone too', async () => {
    const fresh = new GitOpsWriter({ dir: path.join(tmp, 'second-server'), remote });
    for (const w of [writer, fresh]) {
      const h = await w.history(folder);
      assert.deepEqual(h.map((e) => [e.commit, e.kind, e.deployment]), [
        [commits.rollback, 'rollback', IDS[0]], [commits.d2, 'deploy', IDS[1]], [commits.d1, 'deploy', IDS[0]],
      ]);
      assert.equal(h[0]!.author, 'carol');
    }
  });

  test('the remote\'s branch only ever moved forward (its reflog: each value descends from the one before)', () => {
    const values = git(remote, 'reflog', 'show', '--format=%H', 'refs/heads/main').split('\n').reverse();
    assert.ok(values.length >= 4, values.join(' '));
    for (let i = 1; i < values.length; i++) git(remote, 'merge-base', '--is-ancestor', values[i - 1]!, values[i]!);
    assert.equal(values.at(-1), commits.rollback);
  });

  test('without a remote: commits locally; secrets: commit keeps the Secret in the repository', async () => {
    const local = new GitOpsWriter({ dir: path.join(tmp, 'local-only'), secrets: 'commit' });
    const res = await local.write(change(1));
    assert.equal(res.pushed, false);
    assert.equal(res.changed, true);
    assert.ok(res.files.includes('secret-shop-1-env.yaml'));
    assert.deepEqual(res.omitted, []);
    const secret = parse(readFileSync(path.join(tmp, 'local-only', folder, 'secret-shop-1-env.yaml'), 'utf8')) as { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data.API_KEY!, 'base64').toString(), 'key-1');
    assert.ok(existsSync(path.join(tmp, 'local-only', '.git')));
  });
});
