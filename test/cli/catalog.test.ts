import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Entity, ImportResult } from '../../src/contracts/catalog.ts';
import type { Page } from '../../src/contracts/common.ts';
import { BACKSTAGE_FIXTURES } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, type Cli } from './helpers.ts';

/** `pave catalog import|export|list|show` against real servers, with the Backstage conformance descriptors. */

async function allRefs(server: TestServer): Promise<string[]> {
  const refs: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await server.api(`/api/v1/entities?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const page = (await res.json()) as Page<Entity>;
    refs.push(...page.items.map((e) => e.ref));
    cursor = page.nextCursor;
  } while (cursor);
  return refs.sort();
}

describe('pave catalog', { concurrency: false }, () => {
  let server: TestServer;
  let cli: Cli;
  const env = () => ({ PAVE_URL: server.url, PAVE_TOKEN: server.token });
  before(async () => {
    server = await startTestServer();
    cli = cliSandbox();
  });
  after(async () => {
    cli.cleanup();
    await server.close();
  });

  test('import of the Backstage examples: 53 created, the invalid one reported by file#document and path, exit 1', async () => {
    const r = await cli.run(['catalog', 'import', '.'], { cwd: BACKSTAGE_FIXTURES, env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ {2}created\s+53$/m);
    assert.match(r.stdout, /^ {2}updated\s+0$/m);
    assert.match(r.stdout, /^ {2}failed\s+1$/m);
    assert.match(r.stdout, /^ {2}components\/invalid-component\.yaml#0: metadata\.name: /m);
    assert.match(r.stderr, /^Importing \d+ files…$/m, 'plain progress lines when stderr is not a TTY');
  });

  test('re-import changes nothing (JSON output), from any working directory', async () => {
    const r = await cli.run(['catalog', 'import', BACKSTAGE_FIXTURES, '-o', 'json'], { env: env() });
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout) as ImportResult;
    assert.equal(result.created, 0);
    assert.equal(result.updated, 0);
    assert.equal(result.unchanged, 53);
    assert.equal(result.failed, 1);
    assert.equal(result.errors[0]?.location, path.join(BACKSTAGE_FIXTURES, 'components/invalid-component.yaml'));
    assert.equal(result.errors[0]?.path, 'metadata.name');
  });

  test('catalog list --kind and catalog show KIND:NAMESPACE/NAME', async () => {
    let r = await cli.run(['catalog', 'list', '--kind', 'system', '-o', 'json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const page = JSON.parse(r.stdout) as Page<Entity>;
    assert.ok(page.items.length > 0 && page.items.every((e) => e.kind === 'system'));
    r = await cli.run(['catalog', 'show', 'application:default/artist-lookup'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Ref:\s+application:default\/artist-lookup$/m);
    assert.match(r.stdout, /Part of \(1\):\n\s+system:default\/artist-engagement-portal/);
  });

  test('export round-trip: the exported YAML re-imported into a fresh server gives the same refs', async () => {
    const file = path.join(cli.configDir, '..', 'export.yaml');
    const r = await cli.run(['catalog', 'export', '-f', file], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(file, 'utf8'), /^apiVersion: backstage\.io\/v1alpha1$/m);

    const fresh = await startTestServer();
    try {
      const imp = await cli.run(['catalog', 'import', file, '-o', 'json'], { env: { PAVE_URL: fresh.url, PAVE_TOKEN: fresh.token } });
      assert.equal(imp.code, 0, imp.stderr);
      const result = JSON.parse(imp.stdout) as ImportResult;
      assert.equal(result.failed, 0);
      assert.deepEqual(await allRefs(fresh), await allRefs(server));
    } finally {
      await fresh.close();
    }
  });
});
