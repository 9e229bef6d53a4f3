import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { treeDigest } from './digest.ts';
import { checkProcesses, formatProcfile, parseProcfile } from './procfile.ts';
import { parseIgnore } from './source.ts';
import { removeDir, tempDir, writeTree } from './testing.ts';

describe('parseProcfile', () => {
  test('reads process types, takes release out, ignores comments and blank lines', () => {
    const p = parseProcfile(['# the app', '', 'web: node server.js --port $PORT', '  worker:   node worker.js  ', 'release: node migrate.js', '# end', ''].join('\n'));
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.processes, { web: 'node server.js --port $PORT', worker: 'node worker.js' });
    assert.equal(p.release, 'node migrate.js');
  });

  test('CRLF line ends, a byte order mark and colons inside commands', () => {
    const p = parseProcfile('\uFEFFweb: node -e "console.log(1)" http://x:80\r\nclock_2-b: sleep 1\r\n');
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.processes, { web: 'node -e "console.log(1)" http://x:80', 'clock_2-b': 'sleep 1' });
    assert.equal(p.release, null);
  });

  test('reports bad lines with their line numbers and keeps the good ones', () => {
    const p = parseProcfile(['web: npm start', 'just words', 'bad name: x', 'empty:', 'web: other', 'wörker: x', 'worker: ok'].join('\n'));
    assert.deepEqual(p.processes, { web: 'npm start', worker: 'ok' });
    assert.deepEqual(
      p.errors.map((e) => e.line),
      [2, 3, 4, 5, 6],
    );
    assert.match(p.errors[0]?.message ?? '', /expected "<name>: <command>"/);
    assert.match(p.errors[1]?.message ?? '', /invalid process type name "bad name"/);
    assert.match(p.errors[2]?.message ?? '', /"empty" has no command/);
    assert.match(p.errors[3]?.message ?? '', /already declared on line 1/);
  });

  test('an empty Procfile has no process types and no errors', () => {
    assert.deepEqual(parseProcfile('\n# nothing\n'), { processes: {}, release: null, errors: [] });
  });

  test('formatProcfile round-trips', () => {
    const text = formatProcfile({ worker: 'node w.js', web: 'npm start' }, 'node migrate.js');
    assert.equal(text, 'web: npm start\nworker: node w.js\nrelease: node migrate.js\n');
    const p = parseProcfile(text);
    assert.deepEqual(p.processes, { web: 'npm start', worker: 'node w.js' });
    assert.equal(p.release, 'node migrate.js');
  });

  test('checkProcesses refuses bad names, release, empty and multi-line commands', () => {
    assert.deepEqual(checkProcesses({ web: 'npm start' }), []);
    const problems = checkProcesses({ 'a b': 'x', release: 'y', empty: ' ', multi: 'a\nb' });
    assert.equal(problems.length, 4);
  });
});

describe('parseIgnore', () => {
  test('names at any depth, anchored paths, folders only, wildcards', () => {
    const ignored = parseIgnore(['# comment', '*.log', '/dist', 'tmp/', 'docs/**/*.md', '!keep.log', ''].join('\n'));
    assert.equal(ignored('a.log', false), true);
    assert.equal(ignored('deep/x/a.log', false), true);
    assert.equal(ignored('dist', true), true);
    assert.equal(ignored('src/dist', true), false);
    assert.equal(ignored('tmp', true), true);
    assert.equal(ignored('a/tmp', true), true);
    assert.equal(ignored('tmp', false), false);
    assert.equal(ignored('docs/a/b/c.md', false), true);
    assert.equal(ignored('docs/c.md', false), true);
    assert.equal(ignored('src/c.md', false), false);
    assert.equal(ignored('server.js', false), false);
  });
});

describe('treeDigest', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await removeDir(dir);
  });

  test('depends on paths, bytes, exec bits and links, not on times or other mode bits', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    const files = { 'x.txt': 'hello', 'sub/y.txt': 'world', 'bin/run': { content: '#!/bin/sh\n', mode: 0o755 } };
    await writeTree(a, files);
    await writeTree(b, files);
    await fs.symlink('../x.txt', path.join(a, 'sub/link'));
    await fs.symlink('../x.txt', path.join(b, 'sub/link'));
    await fs.chmod(path.join(b, 'x.txt'), 0o600);
    await fs.utimes(path.join(b, 'sub/y.txt'), new Date(0), new Date(0));
    const da = await treeDigest(a);
    assert.match(da, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await treeDigest(b), da);

    await fs.chmod(path.join(b, 'bin/run'), 0o644);
    const noExec = await treeDigest(b);
    assert.notEqual(noExec, da);
    await fs.chmod(path.join(b, 'bin/run'), 0o755);
    assert.equal(await treeDigest(b), da);

    await fs.writeFile(path.join(b, 'x.txt'), 'hellp');
    assert.notEqual(await treeDigest(b), da);
    await fs.writeFile(path.join(b, 'x.txt'), 'hello');

    await fs.rm(path.join(b, 'sub/link'));
    await fs.symlink('y.txt', path.join(b, 'sub/link'));
    assert.notEqual(await treeDigest(b), da);
    await fs.rm(path.join(b, 'sub/link'));
    await fs.symlink('../x.txt', path.join(b, 'sub/link'));

    await fs.rename(path.join(b, 'sub/y.txt'), path.join(b, 'sub/z.txt'));
    assert.notEqual(await treeDigest(b), da);
  });

  test('large files are streamed with the same result as small ones would give', async () => {
    const c = path.join(dir, 'c');
    await writeTree(c, { 'big.bin': 'x'.repeat(600 * 1024), 'small.txt': 's' });
    const d1 = await treeDigest(c);
    await fs.appendFile(path.join(c, 'big.bin'), 'y');
    assert.notEqual(await treeDigest(c), d1);
  });
});
