import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pidAlive, procCmdline, procStat, shellLine } from './proc.ts';

describe('proc helpers', () => {
  it('execs a single simple command and leaves shell syntax alone', () => {
    assert.equal(shellLine('node server.js --port $PORT'), 'exec node server.js --port $PORT');
    assert.equal(shellLine('  bin/web  '), 'exec bin/web');
    for (const cmd of ['a && b', 'a; b', 'a | b', 'a & wait', 'FOO=1 node x', '(cd x && y)', 'if true; then x; fi', 'cd app', 'x > log', 'echo `date`', 'a\nb', '']) {
      assert.equal(shellLine(cmd), cmd, cmd);
    }
  });

  it('reads /proc', () => {
    const st = procStat(process.pid);
    assert.ok(st && st.startTicks > 0 && st.ppid > 0);
    assert.ok(procCmdline(process.pid).length > 0);
    assert.equal(pidAlive(process.pid), true);
    assert.equal(pidAlive(0), false);
    assert.equal(procStat(2 ** 30), null);
  });
});
