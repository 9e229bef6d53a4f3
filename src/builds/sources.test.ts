import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Builder, treeDigest } from './builder.ts';
import { GIT_IDENTITY, collectLogs, removeDir, sh, tempDir, writeTree } from './testing.ts';

describe('git sources', () => {
  let tmp: string;
  let builder: Builder;
  let repo: string;
  let url: string;
  let firstSha: string;
  before(async () => {
    tmp = await tempDir();
    builder = new Builder({ dir: path.join(tmp, 'builds') });
    repo = path.join(tmp, 'repo');
    await writeTree(repo, { Procfile: 'web: sh serve.sh\n', 'serve.sh': 'echo v1\n', 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } });
    const git = (...args: string[]) => sh(repo, 'git', args, GIT_IDENTITY);
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'v1');
    firstSha = (await git('rev-parse', 'HEAD')).trim();
    await git('tag', 'v1');
    await writeTree(repo, { 'serve.sh': 'echo v2\n' });
    await git('commit', '-q', '-am', 'v2');
    url = `file://${repo}`;
  });
  after(async () => {
    await removeDir(tmp);
  });

  test('a branch, a tag, a commit sha and a short sha', async () => {
    const logs = collectLogs();
    const main = await builder.build({ kind: 'git', url, ref: 'main' }, {}, logs.onLog);
    assert.ok(main.ok, main.ok ? '' : `${main.error}\n${logs.text()}`);
    assert.equal(await fs.readFile(path.join(main.artifact.dir, 'serve.sh'), 'utf8'), 'echo v2\n');
    await assert.rejects(fs.access(path.join(main.artifact.dir, '.git')));
    assert.ok(((await fs.stat(path.join(main.artifact.dir, 'bin/tool'))).mode & 0o100) !== 0);
    assert.deepEqual(main.artifact.processes, { web: 'sh serve.sh' });
    assert.ok(logs.system().some((l) => l.startsWith('$ git fetch --depth 1 ')), logs.text());

    const bySha = await builder.build({ kind: 'git', url, ref: firstSha }, {}, () => {});
    assert.ok(bySha.ok, bySha.ok ? '' : bySha.error);
    assert.equal(await fs.readFile(path.join(bySha.artifact.dir, 'serve.sh'), 'utf8'), 'echo v1\n');
    assert.equal(bySha.reused, false);

    const byTag = await builder.build({ kind: 'git', url, ref: 'v1' }, {}, () => {});
    assert.ok(byTag.ok, byTag.ok ? '' : byTag.error);
    assert.equal(byTag.reused, true, 'same source as the sha: reused');
    assert.equal(byTag.artifact.digest, bySha.artifact.digest);

    const shortLogs = collectLogs();
    const byShort = await builder.build({ kind: 'git', url, ref: firstSha.slice(0, 10) }, {}, shortLogs.onLog);
    assert.ok(byShort.ok, byShort.ok ? '' : `${byShort.error}\n${shortLogs.text()}`);
    assert.equal(byShort.artifact.digest, bySha.artifact.digest);
    assert.ok(shortLogs.system().some((l) => l.includes('fetching the whole repository')), shortLogs.text());

    // the same tree from a folder has the same source digest
    const folder = path.join(tmp, 'v2-folder');
    await writeTree(folder, { Procfile: 'web: sh serve.sh\n', 'serve.sh': 'echo v2\n', 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } });
    const fromFolder = await builder.build({ kind: 'path', path: folder }, {}, () => {});
    assert.ok(fromFolder.ok);
    assert.equal(fromFolder.sourceDigest, main.sourceDigest);
  });

  test('unknown refs and repositories fail clearly', async () => {
    const r1 = await builder.build({ kind: 'git', url, ref: 'no-such-branch' }, {}, () => {});
    assert.equal(r1.ok, false);
    if (!r1.ok) assert.match(r1.error, /^git fetch of no-such-branch from file:\/\/.* exited with code 128/);
    const r2 = await builder.build({ kind: 'git', url: `file://${tmp}/nope`, ref: 'main' }, {}, () => {});
    assert.equal(r2.ok, false);
    const r3 = await builder.build({ kind: 'git', url, ref: '--upload-pack=evil' }, {}, () => {});
    assert.equal(r3.ok, false);
    if (!r3.ok) assert.match(r3.error, /invalid git ref/);
    const r4 = await builder.build({ kind: 'git', url, ref: 'deadbeef' }, {}, () => {});
    assert.equal(r4.ok, false);
    if (!r4.ok) assert.match(r4.error, /git ref deadbeef was not found/);
    assert.deepEqual(await fs.readdir(path.join(tmp, 'builds', 'work')), []);
  });
});

describe('archives', () => {
  let tmp: string;
  let builder: Builder;
  before(async () => {
    tmp = await tempDir();
    builder = new Builder({ dir: path.join(tmp, 'builds') });
  });
  after(async () => {
    await removeDir(tmp);
  });

  test('registerArchive stores a built archive as it is (no install, no build)', async () => {
    const app = path.join(tmp, 'built');
    await writeTree(app, {
      'package.json': JSON.stringify({ name: 'built', version: '1.0.0', dependencies: { x: '1.0.0' }, scripts: { build: 'exit 1', start: 'node dist/index.js' } }),
      'dist/index.js': 'console.log(1)\n',
      'node_modules/x/index.js': 'module.exports = 1\n',
    });
    await fs.symlink('../dist/index.js', path.join(app, 'node_modules', 'entry.js'));
    const file = path.join(tmp, 'built.tar.gz');
    await sh(tmp, 'tar', ['-czf', file, '-C', app, '.']);
    const a = await builder.registerArchive(file);
    assert.deepEqual(a.processes, { web: 'npm start' });
    assert.deepEqual(a.detected, ['archive', 'node', 'start-script']);
    assert.equal(a.digest, await treeDigest(app), 'the digest of the tree that was archived');
    assert.equal(await treeDigest(a.dir), a.digest);
    await fs.access(path.join(a.dir, 'node_modules/x/index.js'));
    assert.deepEqual(await builder.artifact(a.digest), a);

    // registering it again gives the same artifact
    const again = await builder.registerArchive(file);
    assert.equal(again.digest, a.digest);
    assert.equal(again.createdAt, a.createdAt);

    // one top folder is unwrapped; processes may be given
    const wrapped = path.join(tmp, 'wrapped.tar.gz');
    await writeTree(path.join(tmp, 'w', 'myapp'), { 'run.sh': 'echo hi\n' });
    await sh(path.join(tmp, 'w'), 'tar', ['-czf', wrapped, 'myapp']);
    const w = await builder.registerArchive(wrapped, { processes: { web: 'sh run.sh' } });
    assert.deepEqual(w.processes, { web: 'sh run.sh' });
    assert.equal(await fs.readFile(path.join(w.dir, 'run.sh'), 'utf8'), 'echo hi\n');
    await assert.rejects(builder.registerArchive(wrapped), /no process types/);
  });

  test('build from an archive source', async () => {
    const src = path.join(tmp, 'source');
    await writeTree(src, {
      'package.json': JSON.stringify({ name: 'src', version: '1.0.0', scripts: { build: 'echo built > out.txt', start: 'node .' } }),
    });
    const file = path.join(tmp, 'source.tar.gz');
    await sh(tmp, 'tar', ['-czf', file, '-C', src, '.']);
    const logs = collectLogs();
    const r = await builder.build({ kind: 'archive', file }, {}, logs.onLog);
    assert.ok(r.ok, r.ok ? '' : `${r.error}\n${logs.text()}`);
    assert.equal(await fs.readFile(path.join(r.artifact.dir, 'out.txt'), 'utf8'), 'built\n');
    assert.equal(r.sourceDigest, await treeDigest(src));
    const again = await builder.build({ kind: 'archive', file }, {}, () => {});
    assert.ok(again.ok && again.reused);
  });

  test('dangerous or broken archives are refused', async () => {
    const builder = new Builder({ dir: path.join(tmp, 'builds-evil') });
    const evilDir = path.join(tmp, 'evil');
    await writeTree(evilDir, { 'inner/ok.txt': 'ok', 'evil.txt': 'evil' });
    const inner = path.join(evilDir, 'inner');

    const dotdot = path.join(tmp, 'dotdot.tar.gz');
    await sh(inner, 'tar', ['-czPf', dotdot, 'ok.txt', '../evil.txt']);
    await assert.rejects(builder.registerArchive(dotdot), /refusing archive dotdot.tar.gz: entry "..\/evil.txt" contains ".."/);
    const r = await builder.build({ kind: 'archive', file: dotdot }, {}, () => {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /contains "\.\."/);

    const absolute = path.join(tmp, 'absolute.tar.gz');
    await sh(inner, 'tar', ['-czPf', absolute, path.join(evilDir, 'evil.txt')]);
    await assert.rejects(builder.registerArchive(absolute), /has an absolute path/);

    const linkOut = path.join(tmp, 'link-out.tar.gz');
    await fs.symlink('/etc/passwd', path.join(inner, 'passwd'));
    await sh(inner, 'tar', ['-czf', linkOut, 'ok.txt', 'passwd']);
    await assert.rejects(builder.registerArchive(linkOut), /is a link to an absolute path/);
    await fs.rm(path.join(inner, 'passwd'));

    const linkUp = path.join(tmp, 'link-up.tar.gz');
    await fs.symlink('../../x', path.join(inner, 'up'));
    await sh(inner, 'tar', ['-czf', linkUp, 'ok.txt', 'up']);
    await assert.rejects(builder.registerArchive(linkUp), /is a link pointing outside the archive/);
    await fs.rm(path.join(inner, 'up'));

    // a link that stays inside, then a file written through it
    const through = path.join(tmp, 'through.tar.gz');
    await fs.mkdir(path.join(inner, 'real'));
    await fs.symlink('real', path.join(inner, 'alias'));
    await writeTree(path.join(tmp, 'second'), { 'alias/x.txt': 'x' });
    await sh(inner, 'tar', ['-cf', path.join(tmp, 'through.tar'), 'ok.txt', 'alias']);
    await sh(path.join(tmp, 'second'), 'tar', ['-rf', path.join(tmp, 'through.tar'), 'alias/x.txt']);
    await sh(tmp, 'sh', ['-c', `gzip -c through.tar > ${through}`]);
    await assert.rejects(builder.registerArchive(through), /would be written through the symbolic link "alias"/);

    const garbage = path.join(tmp, 'garbage.tar.gz');
    await fs.writeFile(garbage, 'not a tarball');
    await assert.rejects(builder.registerArchive(garbage), /garbage.tar.gz is not a readable .tar.gz/);
    await assert.rejects(builder.registerArchive(path.join(tmp, 'missing.tar.gz')), /does not exist/);

    // nothing was stored or left behind
    const artifacts = await fs.readdir(path.join(tmp, 'builds-evil', 'artifacts')).catch(() => []);
    assert.deepEqual(artifacts, []);
    assert.deepEqual(await fs.readdir(path.join(tmp, 'builds-evil', 'work')), []);
  });
});
