import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entity, ImportResult } from '../../src/contracts/catalog.ts';
import type { Page, Problem } from '../../src/contracts/common.ts';
import { BACKSTAGE_FIXTURES } from '../support/fixtures.ts';
import type { TestServer } from '../support/server.ts';

/** Shared helpers of the HTTP API tests. */

export const PROBLEM_BASE = 'https://pave.dev/problems/';

export async function body<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts `res` is an RFC 9457 problem with `status` (and problem type suffix), and returns it. */
export async function expectProblem(res: Response, status: number, type?: string): Promise<Problem> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, 'problem content type');
  const p = JSON.parse(text) as Problem;
  assert.equal(p.status, status);
  assert.ok(p.type.startsWith(PROBLEM_BASE), p.type);
  assert.ok(p.title.length > 0);
  if (type) assert.equal(p.type, PROBLEM_BASE + type, `problem type of ${text}`);
  return p;
}

/** The field paths a validation problem names. */
export function paths(p: Problem): string[] {
  return (p.errors ?? []).map((e) => e.path);
}

export async function expectStatus(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: expected ${status}, got ${res.status}: ${text}`);
  return text;
}

export async function ok<T>(res: Response, status = 200): Promise<T> {
  return JSON.parse(await expectStatus(res, status)) as T;
}

/** Every entity in the catalog (walks all pages). */
export async function allRefs(server: TestServer, query = ''): Promise<string[]> {
  const refs: string[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams(query);
    q.set('limit', '500');
    if (cursor) q.set('cursor', cursor);
    const page: Page<Entity> = await ok<Page<Entity>>(await server.api(`/api/v1/entities?${q}`));
    refs.push(...page.items.map((e) => e.ref));
    cursor = page.nextCursor;
  } while (cursor);
  return refs;
}

export async function countEntities(server: TestServer): Promise<number> {
  const rows = await server.store.db.selectFrom('entities').select((eb) => eb.fn.countAll<number>().as('n')).execute();
  return Number(rows[0]?.n ?? 0);
}

export async function countRelations(server: TestServer): Promise<number> {
  const rows = await server.store.db.selectFrom('relations').select((eb) => eb.fn.countAll<number>().as('n')).execute();
  return Number(rows[0]?.n ?? 0);
}

export interface FixtureFile {
  location: string;
  content: string;
}

/** Every Backstage fixture file (*.yaml), by path relative to the fixture folder, sorted. */
export function backstageFiles(): FixtureFile[] {
  return (readdirSync(BACKSTAGE_FIXTURES, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((location) => ({ location, content: readFileSync(join(BACKSTAGE_FIXTURES, location), 'utf8') }));
}

export async function importFiles(server: TestServer, files: FixtureFile[], dryRun?: boolean): Promise<ImportResult> {
  return ok<ImportResult>(await server.api('/api/v1/catalog/import', { method: 'POST', json: { files, ...(dryRun === undefined ? {} : { dryRun }) } }));
}

export async function getEntity(server: TestServer, ref: string): Promise<{ entity: Entity; etag: string }> {
  const m = /^([a-z]+):([a-z0-9-]+)\/(.+)$/.exec(ref);
  assert.ok(m, `bad ref ${ref}`);
  const res = await server.api(`/api/v1/entities/${m[1]}/${m[2]}/${encodeURIComponent(m[3]!)}`);
  const entity = await ok<Entity>(res);
  return { entity, etag: res.headers.get('etag') ?? '' };
}

/** `type targetRef` strings of an entity's relations, sorted. */
export function relationKeys(e: Entity): string[] {
  return (e.relations ?? []).map((r) => `${r.type} ${r.targetRef}`).sort();
}

export function descriptor(kind: string, name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): string {
  const lines = [`apiVersion: backstage.io/v1alpha1`, `kind: ${kind}`, `metadata:`, `  name: ${name}`];
  const defined = (o: Record<string, unknown>) => Object.entries(o).filter(([, v]) => v !== undefined);
  for (const [k, v] of defined(metadata)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  lines.push(defined(spec).length ? 'spec:' : 'spec: {}');
  for (const [k, v] of defined(spec)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  return lines.join('\n') + '\n';
}

export const group = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  descriptor('Group', name, { type: 'team', ...spec }, metadata);
export const component = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  descriptor('Component', name, { type: 'service', lifecycle: 'production', owner: 'team-x', ...spec }, metadata);
