import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM } from '../../src/services.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/server.ts';

/**
 * A Pave server for the runtime-target tests: the sample platform, plus team profiles (YAML, written
 * beside it) that send some environment types to a Kubernetes cluster or a GitOps repository, and the
 * platform secrets they name.
 */
export async function serverWithProfiles(profiles: Record<string, string>, secrets: Record<string, string>, opts: TestServerOptions = {}): Promise<{ s: TestServer; platform: string }> {
  const platform = mkdtempSync(path.join(os.tmpdir(), 'pave-targets-platform-'));
  cpSync(SAMPLE_PLATFORM, platform, { recursive: true });
  for (const [name, yaml] of Object.entries(profiles)) writeFileSync(path.join(platform, 'team-profiles', `${name}.yaml`), yaml);
  const s = await startTestServer({ platform, deployments: { rolloutPollMs: 10 }, ...opts });
  for (const [k, v] of Object.entries(LOCAL_SERVICE_SECRETS)) await s.services.secrets.seed(k, v);
  for (const [k, v] of Object.entries(secrets)) await s.services.secrets.set(k, v, 'user:default/admin');
  const close = s.close.bind(s);
  s.close = async () => {
    await close();
    rmSync(platform, { recursive: true, force: true });
  };
  return { s, platform };
}

/** An image pinned by digest, `n` repeated. */
export const image = (app: string, n: number) => `registry.example.com/${app}@sha256:${String(n).repeat(64).slice(0, 64)}`;
