import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Builder, treeDigest } from './builder.ts';
import { collectLogs, removeDir, tempDir, writeTree } from './testing.ts';
import type { BuildResult } from './types.ts';

function ok(r: BuildResult): Extract<BuildResult, { ok: true }> {
  if (!r.ok) assert.fail(`build failed: ${r.error}`);
  return r;
}
function failed(r: BuildResult): Extract<BuildResult, { ok: false }> {
  if (r.ok) assert.fail(`build succeeded with ${r.artifact.digest}`);
  return r;
}

async function indexEntries(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'index')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
}
async function artifactDirs(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'artifacts')).catch(() => [] as string[])).filter((f) => !f.endsWith('.json'));
}

describe('Builder with folder sources', () => {
  let tmp: string;
  let builds: string;
  let builder: Builder;
  before(async () => {
    tmp = await tempDir();
    builds = path.join(tmp, 'builds');
    builder = new Builder({ dir: builds });
  });
  after(async () => {
    await removeDir(tmp);
  });

  test('a Procfile source becomes an artifact with its processes and release; the digest is stable; a second build is reused', async () => {
    const src = path.join(tmp, 'procfile-app');
    await writeTree(src, {
      Procfile: '# processes\nweb: ./server.sh\nworker: sh worker.sh\nrelease: sh migrate.sh\n',
      'server.sh': { content: '#!/bin/sh\necho serving\n', mode: 0o755 },
      'worker.sh': 'echo working\n',
      'migrate.sh': 'echo migrating\n',
      'node_modules/junk/index.js': 'skipped',
      '.git/HEAD': 'skipped',
      '.paveignore': '*.log\n/secret/\n',
      'debug.log': 'skipped',
      'secret/key': 'skipped',
    });
    const logs = collectLogs();
    const first = ok(await builder.build({ kind: 'path', path: src }, {}, logs.onLog));
    assert.equal(first.reused, false);
    const a = first.artifact;
    assert.deepEqual(a.processes, { web: './server.sh', worker: 'sh worker.sh' });
    assert.equal(a.release, 'sh migrate.sh');
    assert.ok(a.detected.includes('procfile'));
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(a.dir, path.join(builds, 'artifacts', a.digest.slice(7)));
    assert.equal(await treeDigest(a.dir), a.digest, 'the digest is the digest of the artifact folder');
    assert.ok(a.sizeBytes > 0);
    assert.equal(await fs.readFile(path.join(a.dir, 'server.sh'), 'utf8'), '#!/bin/sh\necho serving\n');
    assert.ok(((await fs.stat(path.join(a.dir, 'server.sh'))).mode & 0o100) !== 0, 'exec bit kept');
    for (const skipped of ['node_modules', '.git', 'debug.log', 'secret']) {
      await assert.rejects(fs.access(path.join(a.dir, skipped)), `${skipped} is not copied`);
    }
    // metadata on disk, and artifact() reads it back
    const meta = JSON.parse(await fs.readFile(`${a.dir}.json`, 'utf8')) as Record<string, unknown>;
    assert.equal(meta.digest, a.digest);
    assert.equal(meta.dir, undefined);
    assert.deepEqual(await builder.artifact(a.digest), a);
    assert.equal(await builder.artifact('sha256:' + '0'.repeat(64)), null);
    assert.equal(await builder.artifact('nonsense'), null);
    // no work folders left behind
    assert.deepEqual(await fs.readdir(path.join(builds, 'work')), []);

    const logs2 = collectLogs();
    const second = ok(await builder.build({ kind: 'path', path: src }, {}, logs2.onLog));
    assert.equal(second.reused, true);
    assert.equal(second.artifact.digest, a.digest);
    assert.equal(second.sourceDigest, first.sourceDigest);
    assert.ok(logs2.system().some((l) => l === `reusing artifact ${a.digest} built from the same source`), logs2.text());

    // the same source under another recipe is another build, the same content the same artifact
    const third = ok(await builder.build({ kind: 'path', path: src }, { command: 'true' }, () => {}));
    assert.equal(third.reused, false);
    assert.equal(third.artifact.digest, a.digest);

    // one byte changed: another source digest and another artifact
    await fs.writeFile(path.join(src, 'worker.sh'), 'echo workinG\n');
    const changed = ok(await builder.build({ kind: 'path', path: src }, {}, () => {}));
    assert.equal(changed.reused, false);
    assert.notEqual(changed.sourceDigest, first.sourceDigest);
    assert.notEqual(changed.artifact.digest, a.digest);

    // remove: gone, and its index entries too
    const before = (await indexEntries(builds)).length;
    await builder.remove(changed.artifact.digest);
    assert.equal(await builder.artifact(changed.artifact.digest), null);
    await assert.rejects(fs.access(changed.artifact.dir));
    assert.equal((await indexEntries(builds)).length, before - 1);
    const again = ok(await builder.build({ kind: 'path', path: src }, {}, () => {}));
    assert.equal(again.reused, false, 'a removed artifact is built again');
    assert.equal(again.artifact.digest, changed.artifact.digest);
  });

  test('reuse is much faster than the first build', async () => {
    const src = path.join(tmp, 'timed');
    await writeTree(src, {
      'package.json': JSON.stringify({ name: 'timed', version: '1.0.0', scripts: { build: 'node -e "setTimeout(() => {}, 300)"', start: 'node index.js' } }),
      'index.js': 'console.log(1)\n',
    });
    const first = ok(await builder.build({ kind: 'path', path: src }, {}, () => {}));
    const second = ok(await builder.build({ kind: 'path', path: src }, {}, () => {}));
    assert.equal(second.reused, true);
    assert.equal(second.artifact.digest, first.artifact.digest);
    assert.ok(second.durationMs * 2 < first.durationMs, `reuse ${second.durationMs} ms vs first build ${first.durationMs} ms`);
    console.log(`# first build ${first.durationMs} ms, reuse ${second.durationMs} ms`);
  });

  test('package.json build script output lands in the artifact; no dependencies: no install; start script → web', async () => {
    const src = path.join(tmp, 'node-build');
    await writeTree(src, {
      'package.json': JSON.stringify({
        name: 'node-build',
        version: '1.0.0',
        scripts: { build: 'node build.js', start: 'node dist/server.js' },
      }),
      'build.js': "require('fs').mkdirSync('dist', { recursive: true }); require('fs').writeFileSync('dist/server.js', 'console.log(' + JSON.stringify(process.env.NODE_ENV + ':' + process.env.CI) + ')\\n'); console.log('built it'); console.error('a warning');\n",
    });
    const logs = collectLogs();
    const r = ok(await builder.build({ kind: 'path', path: src }, {}, logs.onLog));
    const a = r.artifact;
    assert.equal(await fs.readFile(path.join(a.dir, 'dist/server.js'), 'utf8'), 'console.log("production:true")\n');
    assert.deepEqual(a.processes, { web: 'npm start' });
    assert.equal(a.release, null);
    assert.deepEqual(a.detected, ['node', 'npm', 'build-script', 'start-script']);
    const system = logs.system();
    assert.ok(system.includes('no dependencies to install'), logs.text());
    assert.ok(system.includes('$ npm run build'), logs.text());
    assert.ok(system.some((l) => /^build succeeded in \d+\.\d s$/.test(l)), logs.text());
    assert.ok(logs.lines.some((l) => l.stream === 'stdout' && l.line === 'built it'), logs.text());
    assert.ok(logs.lines.some((l) => l.stream === 'stderr' && l.line === 'a warning'), logs.text());
    assert.ok(!system.some((l) => l.startsWith('$ npm ci') || l.startsWith('$ npm install')));
  });

  test('the recipe command replaces the build script; main → web: node <main>', async () => {
    const src = path.join(tmp, 'recipe-command');
    await writeTree(src, {
      'package.json': JSON.stringify({ name: 'rc', version: '1.0.0', main: 'lib/main.js', scripts: { build: 'exit 3' } }),
      'lib/main.js': 'console.log(1)\n',
    });
    const logs = collectLogs();
    const r = ok(await builder.build({ kind: 'path', path: src }, { command: 'echo made > made.txt' }, logs.onLog));
    assert.equal(await fs.readFile(path.join(r.artifact.dir, 'made.txt'), 'utf8'), 'made\n');
    assert.deepEqual(r.artifact.processes, { web: 'node lib/main.js' });
    assert.ok(logs.system().includes('$ echo made > made.txt'));
  });

  test('recipe processes for a source without Procfile are written into the artifact', async () => {
    const src = path.join(tmp, 'recipe-processes');
    await writeTree(src, { 'app.sh': 'echo hi\n' });
    const r1 = ok(await builder.build({ kind: 'path', path: src }, { processes: { web: 'sh app.sh', worker: 'sh app.sh work' } }, () => {}));
    assert.deepEqual(r1.artifact.processes, { web: 'sh app.sh', worker: 'sh app.sh work' });
    assert.equal(await fs.readFile(path.join(r1.artifact.dir, 'Procfile'), 'utf8'), 'web: sh app.sh\nworker: sh app.sh work\n');
    const r2 = ok(await builder.build({ kind: 'path', path: src }, { processes: { web: 'sh app.sh serve' } }, () => {}));
    assert.notEqual(r2.artifact.digest, r1.artifact.digest, 'other processes, other artifact');
    assert.deepEqual(r2.artifact.processes, { web: 'sh app.sh serve' });
    assert.equal(r2.sourceDigest, r1.sourceDigest);

    const bad = failed(await builder.build({ kind: 'path', path: src }, { processes: { 'bad name': 'x' } }, () => {}));
    assert.match(bad.error, /invalid recipe: .*invalid process type name "bad name"/);
  });

  test('a failing build script: ok false with the exit code, logs captured, nothing stored', async () => {
    const src = path.join(tmp, 'failing');
    await writeTree(src, {
      'package.json': JSON.stringify({ name: 'failing', version: '1.0.0', scripts: { build: 'node -e "console.log(\'compiling\'); console.error(\'syntax error somewhere\'); process.exit(1)"', start: 'node x.js' } }),
    });
    const artifactsBefore = await artifactDirs(builds);
    const indexBefore = await indexEntries(builds);
    const logs = collectLogs();
    const r = failed(await builder.build({ kind: 'path', path: src }, {}, logs.onLog));
    assert.equal(r.error, 'npm run build exited with code 1');
    assert.match(r.sourceDigest ?? '', /^sha256:/);
    assert.ok(logs.lines.some((l) => l.stream === 'stdout' && l.line === 'compiling'), logs.text());
    assert.ok(logs.lines.some((l) => l.stream === 'stderr' && l.line === 'syntax error somewhere'), logs.text());
    assert.deepEqual(await artifactDirs(builds), artifactsBefore);
    assert.deepEqual(await indexEntries(builds), indexBefore);
    assert.deepEqual(await fs.readdir(path.join(builds, 'work')), []);
  });

  test('no process types, nothing to build, bad Procfile, missing folder: clear errors', async () => {
    const noProc = path.join(tmp, 'no-proc');
    await writeTree(noProc, { 'package.json': JSON.stringify({ name: 'x', version: '1.0.0' }) });
    const r1 = failed(await builder.build({ kind: 'path', path: noProc }, {}, () => {}));
    assert.equal(r1.error, 'no process types: add a Procfile (web: <command>) or a start script');

    const nothing = path.join(tmp, 'nothing');
    await writeTree(nothing, { 'README.md': '# hi\n' });
    const r2 = failed(await builder.build({ kind: 'path', path: nothing }, {}, () => {}));
    assert.match(r2.error, /^nothing to build: the source has no package.json and no Procfile/);

    const badProc = path.join(tmp, 'bad-procfile');
    await writeTree(badProc, { Procfile: 'web: ok\nthis is not a process\n' });
    const r3 = failed(await builder.build({ kind: 'path', path: badProc }, {}, () => {}));
    assert.equal(r3.error, 'Procfile: line 2: expected "<name>: <command>"');

    const r4 = failed(await builder.build({ kind: 'path', path: path.join(tmp, 'missing') }, {}, () => {}));
    assert.match(r4.error, /source folder .*missing does not exist/);
    assert.equal(r4.sourceDigest, null);

    const badJson = path.join(tmp, 'bad-json');
    await writeTree(badJson, { 'package.json': '{ nope' });
    const r5 = failed(await builder.build({ kind: 'path', path: badJson }, {}, () => {}));
    assert.match(r5.error, /^package.json is not valid JSON/);
  });

  test('aborting stops the build command and its process group', async () => {
    const src = path.join(tmp, 'slow');
    const marker = path.join(tmp, 'slow-marker');
    await writeTree(src, {
      Procfile: 'web: true\n',
      'build.sh': `sleep 30 & echo started; wait; echo done > ${marker}\n`,
    });
    const ac = new AbortController();
    const logs = collectLogs();
    const started = Date.now();
    const p = builder.build({ kind: 'path', path: src }, { command: 'sh build.sh' }, (l) => {
      logs.onLog(l);
      if (l.line === 'started') ac.abort();
    }, ac.signal);
    const r = failed(await p);
    assert.equal(r.error, 'build cancelled');
    assert.ok(Date.now() - started < 10_000, 'stopped quickly');
    await assert.rejects(fs.access(marker));
    assert.deepEqual(await fs.readdir(path.join(builds, 'work')), []);
  });
});
