import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, NetworkError, PaveClient } from '../../src/cli/client.ts';
import { parseEntityRef } from '../../src/cli/commands/catalog.ts';
import { editEntity, splitName } from '../../src/cli/commands/entity.ts';
import { pairs, parseLink } from '../../src/cli/commands/shared.ts';
import { resolveConnection, saveConfig } from '../../src/cli/config.ts';
import { addResult, batchesOf, emptyResult, locationOf } from '../../src/cli/importer.ts';
import { CliError, describeError, table } from '../../src/cli/output.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { closedPortUrl } from './helpers.ts';

/** The CLI's API client and helpers, in-process (no spawning). */

describe('PaveClient against a real server', { concurrency: false }, () => {
  let server: TestServer;
  let client: PaveClient;
  before(async () => {
    server = await startTestServer();
    client = new PaveClient(server.url + '/', server.token);
  });
  after(() => server.close());

  test('PATCH with a stale version is a 412 ApiError; editEntity says someone else changed it', async () => {
    const team = await client.create('teams', { name: 'race' });
    assert.equal(team.version, 1);
    // Someone else edits between our read (version 1) and our write.
    const theirs = await client.update('teams', 'race', 'default', 1, { title: 'Theirs' });
    assert.equal(theirs.version, 2);
    await assert.rejects(client.update('teams', 'race', 'default', 1, { title: 'Ours' }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 412);
      assert.match(err.detail, /version 2/);
      return true;
    });
    await assert.rejects(editEntity(client, 'teams', 'team:default/race', 'race', 'default', { title: 'Ours' }, 1), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.match(err.message, /^team:default\/race was changed by someone else since version 1 was read/);
      return true;
    });
    const ok = await editEntity(client, 'teams', 'team:default/race', 'race', 'default', { title: 'Ours' });
    assert.deepEqual([ok.entity.title, ok.entity.version, ok.changed], ['Ours', 3, true]);
  });

  test('problem+json becomes an ApiError with status, detail and field errors', async () => {
    await assert.rejects(client.create('applications', { name: 'bad name', owner: 'nobody' }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 400);
      assert.ok(err.errors.some((e) => e.path === 'body.name'));
      const lines = describeError(err);
      assert.match(lines[0]!, /^error: /);
      assert.ok(lines.includes(`  body.name: ${err.errors.find((e) => e.path === 'body.name')!.message}`));
      return true;
    });
    await assert.rejects(new PaveClient(server.url, 'pave_nope').me(), (err: unknown) => err instanceof ApiError && err.status === 401);
  });

  test('an unreachable server is a NetworkError naming the URL', async () => {
    const url = await closedPortUrl();
    await assert.rejects(new PaveClient(url, 't').me(), (err: unknown) => {
      assert.ok(err instanceof NetworkError);
      assert.match(err.message, new RegExp(`^cannot reach the Pave server at ${url}/api/v1/me: `));
      return true;
    });
  });
});

describe('CLI helpers', () => {
  test('links: URL[=title], with = inside a query kept in the URL', () => {
    assert.deepEqual(parseLink('https://a.example/x'), { url: 'https://a.example/x' });
    assert.deepEqual(parseLink('https://a.example/x=Docs'), { url: 'https://a.example/x', title: 'Docs' });
    assert.deepEqual(parseLink('https://a.example/?q=1'), { url: 'https://a.example/?q=1' });
    assert.deepEqual(parseLink('https://a.example/?q=1&r=2=Two'), { url: 'https://a.example/?q=1&r=2', title: 'Two' });
    assert.deepEqual(pairs(['a=b', 'c=d=e'], '--label'), { a: 'b', c: 'd=e' });
    assert.throws(() => pairs(['nope'], '--label'), CliError);
  });

  test('names and refs', () => {
    assert.deepEqual(splitName('ops/checkout', undefined), { namespace: 'ops', name: 'checkout' });
    assert.deepEqual(splitName('checkout', 'ops'), { namespace: 'ops', name: 'checkout' });
    assert.deepEqual(parseEntityRef('component:artist-lookup'), { kind: 'application', namespace: 'default', name: 'artist-lookup' });
    assert.deepEqual(parseEntityRef('API:ops/petstore'), { kind: 'api', namespace: 'ops', name: 'petstore' });
    assert.throws(() => parseEntityRef('petstore'), CliError);
  });

  test('tables are aligned, empty cells shown as -', () => {
    assert.equal(table(['A', 'LONG'], [['xyz', null], ['', 'v']]), 'A    LONG\nxyz  -\n-    v');
  });

  test('import batches by file count and bytes; results add up, later batches resolving earlier relations', () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ size: i === 2 ? 100 : 10 }));
    assert.deepEqual(batchesOf(files, 2, 1000).map((b) => b.length), [2, 2, 1]);
    assert.deepEqual(batchesOf(files, 10, 50).map((b) => b.length), [2, 1, 2]);
    const first = { ...emptyResult(false), created: 2, unresolved: [{ source: 'application:default/a', type: 'ownedBy', target: 'team:default/t' }], unresolvedCount: 1 };
    const second = { ...emptyResult(false), created: 1, failed: 1, changed: [{ ref: 'team:default/t', action: 'created' as const }], errors: [{ location: 'x.yaml', document: 0, ref: null, message: 'bad', path: null }] };
    const total = addResult(addResult(emptyResult(false), first), second);
    assert.deepEqual([total.created, total.failed, total.unresolvedCount, total.unresolved.length, total.errors.length], [3, 1, 0, 0, 1]);
    assert.equal(locationOf('/a/b/c.yaml', '/a'), 'b/c.yaml');
    assert.equal(locationOf('/x/c.yaml', '/a'), '/x/c.yaml');
  });

  test('connection: the current context, --context, and PAVE_URL / PAVE_TOKEN overrides', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-cli-config-'));
    try {
      const env = { PAVE_CONFIG_DIR: dir };
      assert.throws(() => resolveConnection(undefined, env), /not logged in/);
      saveConfig({ current: 'a', contexts: { a: { url: 'http://a.example', token: 'ta' }, b: { url: 'http://b.example/', token: 'tb' } } }, path.join(dir, 'config.json'));
      assert.deepEqual(resolveConnection(undefined, env), { url: 'http://a.example', token: 'ta', context: 'a' });
      assert.deepEqual(resolveConnection('b', env), { url: 'http://b.example', token: 'tb', context: 'b' });
      assert.deepEqual(resolveConnection(undefined, { ...env, PAVE_CONTEXT: 'b', PAVE_TOKEN: 'env' }), { url: 'http://b.example', token: 'env', context: 'b' });
      assert.throws(() => resolveConnection('c', env), /no context named "c"/);
      assert.throws(() => resolveConnection(undefined, { ...env, PAVE_URL: 'http://elsewhere.example' }), /not the server of context "a"/);
      assert.equal(resolveConnection(undefined, { ...env, PAVE_URL: 'http://a.example/' }).token, 'ta');
      assert.deepEqual(resolveConnection(undefined, { PAVE_CONFIG_DIR: path.join(dir, 'none'), PAVE_URL: 'http://ci.example', PAVE_TOKEN: 't' }), { url: 'http://ci.example', token: 't' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
