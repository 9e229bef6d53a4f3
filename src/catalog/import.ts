import type { ImportError, ImportResult } from '../contracts/catalog.ts';
import type { Db } from '../store/db.ts';
import { parseCatalogFile } from './descriptor.ts';
import { refOf } from './model.ts';
import { unresolvedRelations, upsertEntities, type StagedEntity } from './repository.ts';

const REPORT_MAX = 1000;

class DryRun extends Error {}

/**
 * Imports Backstage descriptors. Invalid documents are reported (file, document index, reason) and
 * skipped; all valid ones are written in one transaction, so an import is applied whole or not at all.
 * Unchanged entities are not written, so re-importing the same files changes nothing.
 */
export async function importFiles(db: Db, files: { location: string; content: string }[], dryRun: boolean): Promise<ImportResult> {
  const errors: ImportError[] = [];
  const staged: StagedEntity[] = [];
  const seen = new Map<string, { location: string; document: number }>();
  let skipped = 0;
  for (const f of files) {
    const parsed = parseCatalogFile(f.location, f.content);
    errors.push(...parsed.errors);
    skipped += parsed.skipped;
    for (const { draft, document } of parsed.drafts) {
      const ref = refOf(draft.kind, draft.namespace, draft.name);
      const first = seen.get(ref);
      if (first) {
        errors.push({ location: f.location, document, ref, path: 'metadata.name', message: `${ref} is already defined in ${first.location} (document ${first.document}) in this import` });
        continue;
      }
      seen.set(ref, { location: f.location, document });
      staged.push({ draft, source: f.location });
    }
  }
  const result: ImportResult = { created: 0, updated: 0, unchanged: 0, failed: errors.length, skipped, changed: [], errors, unresolved: [], unresolvedCount: 0, dryRun };
  try {
    await db.transaction().execute(async (tx) => {
      const out = await upsertEntities(tx, staged);
      result.created = out.created.length;
      result.updated = out.updated.length;
      result.unchanged = out.unchanged;
      result.changed = [
        ...out.created.map((c) => ({ ref: c.ref, action: 'created' as const })),
        ...out.updated.map((c) => ({ ref: c.ref, action: 'updated' as const })),
      ].slice(0, REPORT_MAX);
      const unresolved = await unresolvedRelations(tx, [...seen.keys()], REPORT_MAX);
      result.unresolved = unresolved.items;
      result.unresolvedCount = unresolved.count;
      if (dryRun) throw new DryRun();
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  }
  return result;
}
