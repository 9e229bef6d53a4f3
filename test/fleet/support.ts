import assert from 'node:assert/strict';
import type { FleetPlan, Upgrade, UpgradeEvent } from '../../src/contracts/fleet.ts';
import { build, json } from '../deployments/helpers.ts';

/** What the fleet tests need of a server: an authenticated fetch. */
export interface Api {
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export async function createApp(s: Api, name: string, envs: string[], extra: Record<string, unknown> = {}): Promise<void> {
  const environments = envs.map((e) => ({ name: e, type: e }));
  await json(await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'team-a', template: 'svc', templateVersion: '1.0.0', environments, ...extra } }), 201);
}

/** Builds the fixture app once for the application, deploys and releases it in each environment. */
export async function deployEverywhere(s: Api & { url?: string }, name: string, envs: string[]): Promise<void> {
  await build(s as Parameters<typeof build>[0], name);
  for (const env of envs) {
    const d = await json<{ status: string; released: boolean; error: string | null }>(await s.api(`/api/v1/applications/${name}/environments/${env}/deployments`, { method: 'POST', json: { release: true } }), 201);
    assert.equal(d.status, 'healthy', d.error ?? '');
    assert.equal(d.released, true);
  }
}

export async function plan(s: Api, body: Record<string, unknown>): Promise<FleetPlan> {
  return json<FleetPlan>(await s.api('/api/v1/fleet/plans', { method: 'POST', json: body }), 201);
}

export async function startUpgrade(s: Api, body: Record<string, unknown>): Promise<Upgrade> {
  return json<Upgrade>(await s.api('/api/v1/fleet/upgrades', { method: 'POST', json: body }), 201);
}

export async function getUpgrade(s: Api, id: string): Promise<Upgrade> {
  return json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${id}`), 200);
}

/** Polls until `cond` holds of the upgrade. */
export async function waitUpgrade(s: Api, id: string, cond: (u: Upgrade) => boolean, what: string, timeoutMs = 120_000): Promise<Upgrade> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const u = await getUpgrade(s, id);
    if (cond(u)) return u;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}: ${JSON.stringify({ status: u.status, counts: u.counts, apps: u.applications.map((a) => [a.application, a.state, a.error]) })}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export const FINAL = ['succeeded', 'completed', 'failed', 'cancelled'];

/** Follows the upgrade's NDJSON stream to its end: the events, and the final upgrade. */
export async function follow(s: Api, id: string, after = 0): Promise<{ events: UpgradeEvent[]; result: Upgrade }> {
  const res = await s.api(`/api/v1/fleet/upgrades/${id}/events?follow=true&after=${after}`, { headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const events: UpgradeEvent[] = [];
  let result: Upgrade | undefined;
  for (const line of (await res.text()).split('\n').filter(Boolean)) {
    const o = JSON.parse(line) as { event?: UpgradeEvent; result?: Upgrade; error?: unknown };
    if (o.error) throw new Error(`stream error: ${JSON.stringify(o.error)}`);
    if (o.event) events.push(o.event);
    if (o.result) result = o.result;
  }
  assert.ok(result, 'the stream ends with the upgrade');
  return { events, result };
}

export const short = (ref: string) => ref.replace('application:default/', '');
