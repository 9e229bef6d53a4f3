import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { MIGRATIONS } from '../../src/store/migrate.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { spawn } from 'node:child_process';
import { alive, ROOT, runFailingServer, startServerProcess } from '../support/process.ts';

const me = (url: string, token: string) => fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
const postmasterPid = (dir: string) => Number(readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('npm start with the embedded store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-life-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let token = '';

  test('first start creates the store, prints the portal URL and a one-time admin token that works', async () => {
    const s = await startServerProcess({ PAVE_DATA_DIR: dir });
    try {
      const m = /^\s+(pave_[A-Za-z0-9_-]{43})\s*$/m.exec(s.output());
      assert.ok(m, `no token in:\n${s.output()}`);
      token = m[1]!;
      assert.equal((await me(s.url, token)).status, 200);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${s.url}/api/v1/me`)).status, 401);
      const stored = readFileSync(path.join(dir, 'store.json'), 'utf8');
      assert.ok(!stored.includes(token), 'the token is not stored in clear');
    } finally {
      assert.equal(await s.stop('SIGTERM'), 0);
    }
  });

  test('stopping Pave stops its PostgreSQL; a restart keeps the data and prints no new token', async () => {
    assert.equal(existsSync(path.join(dir, 'postgres', 'postmaster.pid')), false, 'embedded PostgreSQL left running');
    const s = await startServerProcess({ PAVE_DATA_DIR: dir });
    try {
      assert.doesNotMatch(s.output(), /pave_[A-Za-z0-9_-]{43}/);
      assert.equal((await me(s.url, token)).status, 200);
    } finally {
      await s.stop();
    }
  });

  test('a second Pave on the same data directory refuses to start', async () => {
    const s = await startServerProcess({ PAVE_DATA_DIR: dir });
    try {
      const second = await runFailingServer({ PAVE_DATA_DIR: dir });
      assert.notEqual(second.code, 0);
      assert.match(second.output, /in use by another Pave process/);
      assert.equal((await me(s.url, token)).status, 200, 'the first one still serves');
    } finally {
      await s.stop();
    }
  });

  test('after a crash (SIGKILL) the stale PostgreSQL is detected and restarted; data survives', async () => {
    const s = await startServerProcess({ PAVE_DATA_DIR: dir });
    const created = await fetch(`${s.url}/api/v1/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'survivors' }),
    });
    assert.equal(created.status, 201);
    const stale = postmasterPid(dir);
    await s.stop('SIGKILL');
    assert.ok(alive(stale), 'PostgreSQL outlives a killed Pave');
    const again = await startServerProcess({ PAVE_DATA_DIR: dir });
    try {
      assert.equal(alive(stale), false, 'the stale PostgreSQL was stopped');
      const team = await fetch(`${again.url}/api/v1/teams/survivors`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(team.status, 200);
    } finally {
      await again.stop();
    }
  });
});

describe('configuration', () => {
  test('PAVE_BOOTSTRAP_TOKEN sets the first admin token and is ignored once an admin exists', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-boot-'));
    try {
      const first = 'pave_first-bootstrap-token-0001';
      const s = await startServerProcess({ PAVE_DATA_DIR: dir, PAVE_BOOTSTRAP_TOKEN: first });
      assert.equal((await me(s.url, first)).status, 200);
      assert.doesNotMatch(s.output(), new RegExp(first), 'a preset token is not echoed');
      await s.stop();
      const s2 = await startServerProcess({ PAVE_DATA_DIR: dir, PAVE_BOOTSTRAP_TOKEN: 'pave_second-bootstrap-token-02' });
      try {
        assert.equal((await me(s2.url, 'pave_second-bootstrap-token-02')).status, 401);
        assert.equal((await me(s2.url, first)).status, 200);
      } finally {
        await s2.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('invalid settings stop the start with a message naming the variable', async () => {
    const r = await runFailingServer({ PAVE_PORT: 'seventy', PAVE_DATA_DIR: '/nonexistent' });
    assert.equal(r.code, 1);
    assert.match(r.output, /PAVE_PORT/);
    const r2 = await runFailingServer({ PAVE_DATABASE_URL: 'not a url' });
    assert.equal(r2.code, 1);
    assert.match(r2.output, /PAVE_DATABASE_URL/);
  });
});

describe('several servers on one external PostgreSQL', () => {
  test('two servers starting together migrate once and create one admin', async () => {
    const db = await createTestDatabase();
    try {
      // Replicas share the database and the secret key, each with its own data directory.
      const env = { PAVE_DATABASE_URL: db.url, PAVE_BOOTSTRAP_TOKEN: 'pave_shared-bootstrap-token-01', PAVE_SECRET_KEY: Buffer.alloc(32, 9).toString('base64') };
      const dirs = [mkdtempSync(path.join(os.tmpdir(), 'pave-replica-')), mkdtempSync(path.join(os.tmpdir(), 'pave-replica-'))] as const;
      const [a, b] = await Promise.all([startServerProcess({ ...env, PAVE_DATA_DIR: dirs[0] }), startServerProcess({ ...env, PAVE_DATA_DIR: dirs[1] })]);
      try {
        assert.equal((await me(a.url, env.PAVE_BOOTSTRAP_TOKEN)).status, 200);
        assert.equal((await me(b.url, env.PAVE_BOOTSTRAP_TOKEN)).status, 200);
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        const admins = await c.query(`SELECT count(*)::int AS n FROM user_accounts WHERE 'admin' = ANY(roles)`);
        const migrations = await c.query(`SELECT count(*)::int AS n FROM pave_migrations`);
        await c.end();
        assert.equal(admins.rows[0].n, 1);
        assert.equal(migrations.rows[0].n, Object.keys(MIGRATIONS).length);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    } finally {
      await db.drop();
    }
  });
});

describe('stopping', () => {
  test('a keep-alive client does not hold up a stop: the server exits within seconds', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-stop-'));
    try {
      const s = await startServerProcess({ PAVE_DATA_DIR: dir });
      // fetch keeps the connection alive after the response, as browsers and load generators do.
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      const t = Date.now();
      assert.equal(await s.stop('SIGTERM'), 0);
      assert.ok(Date.now() - t < 8_000, `took ${Date.now() - t} ms`);
      assert.equal(existsSync(path.join(dir, 'postgres', 'postmaster.pid')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stop signal during the first start leaves no PostgreSQL behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-early-'));
    try {
      const child = spawn(process.execPath, ['src/server/main.ts'], { cwd: ROOT, env: { ...process.env, PAVE_PORT: '0', PAVE_DATA_DIR: dir, PAVE_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
      // initdb and the first start take over a second: stop while the store is starting.
      for (let i = 0; i < 100 && !existsSync(path.join(dir, 'postgres')); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(code, 0);
      const pidFile = path.join(dir, 'postgres', 'postmaster.pid');
      assert.equal(existsSync(pidFile), false, 'the embedded PostgreSQL was stopped');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
