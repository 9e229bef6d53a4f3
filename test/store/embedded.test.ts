import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../../src/logging.ts';
import { startEmbeddedPostgres, type EmbeddedHandle } from '../../src/store/embedded.ts';
import { storeConformance } from './conformance.ts';

// The conformance suite against the embedded store: real PostgreSQL binaries from npm in a temp data dir.
let server: EmbeddedHandle | undefined;
let dir = '';
let n = 0;
storeConformance('embedded', async () => {
  if (!server) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pave-embedded-'));
    server = await startEmbeddedPostgres({ dataDir: dir, log: createLogger('silent'), durable: false });
  }
  const name = `conf_${process.pid}_${n++}`;
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    done: async () => {
      if (name.endsWith('_0')) {
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
});
