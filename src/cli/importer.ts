import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImportResult } from '../contracts/catalog.ts';
import type { PaveClient } from './client.ts';
import { CliError } from './output.ts';

/**
 * `pave catalog import`: finds the descriptor files, sends them in batches (each batch is one request
 * and one transaction on the server) and adds the results up.
 */

export const MAX_BATCH_FILES = 20_000;
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;
const REPORT_MAX = 1000;
const SKIP_DIRS = new Set(['.git', 'node_modules']);

export interface FoundFile {
  path: string;
  location: string;
  size: number;
}

const isYaml = (name: string) => /\.ya?ml$/i.test(name);

/** Where a file is reported from: relative to the working directory when inside it, else absolute. */
export function locationOf(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) await walk(p, out);
    } else if (e.isFile() && isYaml(e.name)) {
      out.push(p);
    }
  }
}

/** Files named directly (any extension) and every *.yaml / *.yml below named folders, sorted and de-duplicated. */
export async function findFiles(paths: string[], cwd = process.cwd()): Promise<FoundFile[]> {
  const found = new Set<string>();
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new CliError(`no such file or folder: ${p}`);
    if (st.isDirectory()) {
      const list: string[] = [];
      await walk(abs, list);
      list.forEach((f) => found.add(f));
    } else {
      found.add(abs);
    }
  }
  const files = [...found].sort();
  return Promise.all(files.map(async (f) => ({ path: f, location: locationOf(f, cwd), size: (await stat(f)).size })));
}

/** Groups files into batches of at most `maxFiles` files and `maxBytes` bytes (a bigger file goes alone). */
export function batchesOf<T extends { size: number }>(files: T[], maxFiles = MAX_BATCH_FILES, maxBytes = MAX_BATCH_BYTES): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length > 0 && (cur.length >= maxFiles || bytes + f.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

export const emptyResult = (dryRun: boolean): ImportResult => ({
  created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0, changed: [], errors: [], unresolved: [], unresolvedCount: 0, dryRun,
});

/**
 * Adds a batch's result to the running total. A relation left unresolved by an earlier batch whose
 * target a later batch created is dropped from the unresolved list.
 */
export function addResult(total: ImportResult, r: ImportResult): ImportResult {
  const created = new Set(r.changed.map((c) => c.ref));
  const stillUnresolved = total.unresolved.filter((u) => !created.has(u.target));
  const resolvedNow = total.unresolved.length - stillUnresolved.length;
  return {
    created: total.created + r.created,
    updated: total.updated + r.updated,
    unchanged: total.unchanged + r.unchanged,
    failed: total.failed + r.failed,
    skipped: total.skipped + r.skipped,
    changed: [...total.changed, ...r.changed].slice(0, REPORT_MAX),
    errors: [...total.errors, ...r.errors],
    unresolved: [...stillUnresolved, ...r.unresolved].slice(0, REPORT_MAX),
    unresolvedCount: total.unresolvedCount - resolvedNow + r.unresolvedCount,
    dryRun: r.dryRun,
  };
}

/** Imports `files` batch by batch, calling `progress(done, total)` after each. */
export async function importFiles(
  client: PaveClient,
  files: FoundFile[],
  dryRun: boolean,
  progress: (done: number, total: number) => void,
): Promise<ImportResult> {
  let total = emptyResult(dryRun);
  let done = 0;
  progress(0, files.length);
  for (const batch of batchesOf(files)) {
    const payload = await Promise.all(batch.map(async (f) => ({ location: f.location, content: await readFile(f.path, 'utf8') })));
    total = addResult(total, await client.importCatalog({ files: payload, dryRun }));
    done += batch.length;
    progress(done, files.length);
  }
  return total;
}
