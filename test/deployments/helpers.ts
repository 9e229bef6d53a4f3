import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import type { Build, Deployment, EnvironmentStatus, Release } from '../../src/contracts/deployments.ts';
import type { TestServer } from '../support/server.ts';

export const HELLO = path.join(import.meta.dirname, 'fixtures/hello');

export async function json<T>(res: Response, status?: number): Promise<T> {
  const text = await res.text();
  if (status !== undefined) assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

export const envBase = (app: string, env: string) => `/api/v1/applications/${app}/environments/${env}`;

export async function createApp(s: TestServer, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await json(await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'team-a', template: 'node-service', ...extra } }), 201);
}

export async function build(s: TestServer, app: string, dir = HELLO): Promise<Build> {
  return json<Build>(await s.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: dir } }), 201);
}

export async function deploy(s: TestServer, app: string, env: string, body: Record<string, unknown> = {}): Promise<Deployment> {
  return json<Deployment>(await s.api(`${envBase(app, env)}/deployments`, { method: 'POST', json: body }), 201);
}

export async function release(s: TestServer, app: string, env: string, deployment: number | string): Promise<Release> {
  return json<Release>(await s.api(`${envBase(app, env)}/release`, { method: 'POST', json: { deployment } }), 200);
}

export async function status(s: TestServer, app: string, env: string): Promise<EnvironmentStatus> {
  return json<EnvironmentStatus>(await s.api(`${envBase(app, env)}/status`), 200);
}

/** GET through the router with a `<app>-<env>.localhost` Host header (Node does not resolve *.localhost). */
export function viaRouter(routerUrl: string, host: string, p = '/'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(routerUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: p, headers: { host: `${host}:${u.port}` }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
