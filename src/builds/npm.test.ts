import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Builder } from './builder.ts';
import { collectLogs, removeDir, sh, tempDir, writeTree } from './testing.ts';

// Offline-safe: the dependency is a local `file:` package inside the source (so the lockfile's
// relative path still resolves in the build's work folder), and the lockfile is made here by npm.
describe('Builder with npm dependencies', () => {
  let tmp: string;
  let builder: Builder;
  before(async () => {
    tmp = await tempDir();
    builder = new Builder({ dir: path.join(tmp, 'builds') });
  });
  after(async () => {
    await removeDir(tmp);
  });

  test('package-lock.json → npm ci; node_modules is in the artifact; the app runs from it', async () => {
    const src = path.join(tmp, 'app');
    await writeTree(src, {
      'package.json': JSON.stringify({
        name: 'app',
        version: '1.0.0',
        private: true,
        dependencies: { greet: 'file:./vendor/greet' },
        scripts: { build: 'node build.js', start: 'node server.js' },
      }),
      'vendor/greet/package.json': JSON.stringify({ name: 'greet', version: '1.2.3', main: 'index.js' }),
      'vendor/greet/index.js': "module.exports = (n) => 'hello ' + n;\n",
      'build.js': "require('fs').writeFileSync('greeting.txt', require('greet')('build'));\n",
      'server.js': "console.log(require('greet')('server'));\n",
    });
    await sh(src, 'npm', ['install', '--no-audit', '--no-fund', '--offline']);
    await fs.access(path.join(src, 'package-lock.json'));

    const logs = collectLogs();
    const r = await builder.build({ kind: 'path', path: src }, {}, logs.onLog);
    assert.ok(r.ok, r.ok ? '' : `${r.error}\n${logs.text()}`);
    const system = logs.system();
    assert.ok(system.includes('$ npm ci'), logs.text());
    assert.ok(system.includes('$ npm run build'), logs.text());
    const a = r.artifact;
    assert.deepEqual(a.detected, ['node', 'npm', 'build-script', 'start-script']);
    assert.deepEqual(a.processes, { web: 'npm start' });
    await fs.access(path.join(a.dir, 'node_modules', 'greet', 'index.js'));
    assert.equal(await fs.readFile(path.join(a.dir, 'greeting.txt'), 'utf8'), 'hello build');
    assert.equal((await sh(a.dir, process.execPath, ['server.js'])).trim(), 'hello server');

    // a lockfile that does not match package.json makes npm ci fail: a clear error, nothing stored
    const pkg = JSON.parse(await fs.readFile(path.join(src, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['other'] = 'file:./vendor/other';
    await writeTree(src, { 'package.json': JSON.stringify(pkg), 'vendor/other/package.json': JSON.stringify({ name: 'other', version: '1.0.0' }) });
    const logs2 = collectLogs();
    const r2 = await builder.build({ kind: 'path', path: src }, {}, logs2.onLog);
    assert.equal(r2.ok, false);
    if (!r2.ok) assert.match(r2.error, /^npm ci exited with code \d+$/);
    assert.ok(logs2.lines.some((l) => l.stream === 'stderr'), logs2.text());
  });

  test('no lockfile → npm install', async () => {
    const src = path.join(tmp, 'nolock');
    await writeTree(src, {
      'package.json': JSON.stringify({ name: 'nolock', version: '1.0.0', private: true, dependencies: { greet: 'file:./vendor/greet' }, main: 'index.js' }),
      'vendor/greet/package.json': JSON.stringify({ name: 'greet', version: '1.0.0' }),
      'index.js': "require('greet');\n",
    });
    const logs = collectLogs();
    const r = await builder.build({ kind: 'path', path: src }, {}, logs.onLog);
    assert.ok(r.ok, r.ok ? '' : `${r.error}\n${logs.text()}`);
    assert.ok(logs.system().includes('$ npm install'), logs.text());
    assert.deepEqual(r.artifact.processes, { web: 'node index.js' });
    await fs.access(path.join(r.artifact.dir, 'node_modules', 'greet', 'package.json'));
  });
});
