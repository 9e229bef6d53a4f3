/**
 * The portal's environment cards show where an environment runs: the runtime, the cluster, and each
 * released object's state as the cluster reports it, in a real browser (Chromium via playwright-core),
 * against a real server whose production environment deploys to a RecordingApiServer (a recording
 * HTTP server standing in for the Kubernetes API, not a live cluster). Needs the portal built
 * (`npm run build:portal`, or PAVE_PORTAL_DIR naming another build).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Deployment } from '../../src/contracts/deployments.ts';
import { envBase, json } from '../deployments/helpers.ts';
import { CHROMIUM, PORTAL_INDEX, signedInPortal } from '../support/browser.ts';
import type { TestServer } from '../support/server.ts';
import { RecordingApiServer } from './recording-api-server.ts';
import { image, serverWithProfiles } from './support.ts';

const portalDir = process.env.PAVE_PORTAL_DIR ?? path.dirname(PORTAL_INDEX);

describe('web portal: the runtime target on the environment cards', { timeout: 90_000 }, () => {
  let api: RecordingApiServer;
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    if (!existsSync(path.join(portalDir, 'index.html'))) throw new Error(`the portal is not built (${portalDir}/index.html is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set PAVE_CHROMIUM)`);
    api = await new RecordingApiServer().start();
    const profile = `
apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: web-team }
spec:
  team: web-team
  environments:
    production:
      runtime: kubernetes
      cluster: { name: eu-west-1, server: "${api.url}", token: { secretRef: eu-token }, domain: apps.example.com }
`;
    ({ s } = await serverWithProfiles({ 'web-team': profile }, { 'eu-token': 't' }, { portalDir }));
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'web-team', members: ['admin'] } }), 201);
    await json(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'shop', owner: 'web-team', template: 'node-service', environments: [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }] } }), 201);
    await json(await s.api('/api/v1/applications/shop/artifacts', { method: 'POST', json: { image: image('shop', 1) } }), 201);
    const d = await json<Deployment>(await s.api(`${envBase('shop', 'production')}/deployments`, { method: 'POST', json: { release: true } }), 201);
    assert.equal(d.released, true, d.error ?? '');
    ({ browser, page } = await signedInPortal(s, { timeout: 10_000, errors, height: 1400 }));
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await api?.close();
  });

  it('production shows kubernetes, its cluster and its objects; development shows local', async () => {
    await page.goto('/applications/default/shop');
    const prod = page.getByTestId('env-card-production');
    await prod.getByTestId('env-objects').waitFor();
    assert.equal(await prod.getByTestId('env-runtime').innerText(), 'kubernetes');
    assert.match(await prod.getByTestId('env-target').innerText(), new RegExp(`Cluster eu-west-1 · ${api.url.replace(/[.]/g, '\\.')}`));
    const objects = await prod.getByTestId('env-objects').innerText();
    assert.match(objects, /Deployment shop-production\/shop-1\s+ready/);
    assert.match(objects, /Service shop-production\/shop\s+ready/);
    assert.match(await prod.getByTestId('env-url').innerText(), /https:\/\/shop-production\.apps\.example\.com/);
    assert.equal(await page.getByTestId('env-card-development').getByTestId('env-runtime').innerText(), 'local');
    await page.getByRole('region', { name: 'Deployments' }).screenshot({ path: '/tmp/pave-portal-runtime-targets.png' });
    assert.deepEqual(errors, []);
  });
});
