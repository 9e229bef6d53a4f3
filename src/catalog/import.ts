import type { ImportError, ImportResult } from '../contracts/catalog.ts';
import type { Db } from '../store/db.ts';
import { parseCatalogFile } from './descriptor.ts';
import { refOf } from './model.ts';
import { bulkWriteStarted, EntityWriter, unresolvedAmong } from './repository.ts';

const REPORT_MAX = 1000;

class DryRun extends Error {}

/**
 * Imports Backstage descriptors. Invalid documents are reported (file, document index, reason) and
 * skipped; all valid ones are written in one transaction, so an import is applied whole or not at all.
 * Unchanged entities are not written, so re-importing the same files changes nothing.
 *
 * Files are parsed one after another and their entities written in batches as they come, the database
 * writing one batch while the next is prepared: the import's parsed documents are never all held at once.
 */
export async function importFiles(db: Db, files: { location: string; content: string }[], dryRun: boolean): Promise<ImportResult> {
  const errors: ImportError[] = [];
  const seen = new Map<string, { location: string; document: number }>();
  /** Declared relations whose target was not among the entities seen so far in this import. */
  let declared: { source: string; type: string; target: string }[] = [];
  let skipped = 0;
  const result: ImportResult = { created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0, changed: [], errors, unresolved: [], unresolvedCount: 0, dryRun };
  const ended = bulkWriteStarted(db);
  let committed = 0;
  try {
    await db.transaction().execute(async (tx) => {
      const writer = new EntityWriter(tx, REPORT_MAX);
      for (const f of files) {
        const parsed = parseCatalogFile(f.location, f.content);
        for (const e of parsed.errors) errors.push(e);
        skipped += parsed.skipped;
        for (const { draft, document } of parsed.drafts) {
          const ref = refOf(draft.kind, draft.namespace, draft.name);
          const first = seen.get(ref);
          if (first) {
            errors.push({ location: f.location, document, ref, path: 'metadata.name', message: `${ref} is already defined in ${first.location} (document ${first.document}) in this import` });
            continue;
          }
          seen.set(ref, { location: f.location, document });
          for (const r of draft.relations) if (!seen.has(r.target)) declared.push({ source: ref, type: r.type, target: r.target });
          await writer.add({ draft, source: f.location });
        }
      }
      const out = await writer.finish();
      result.created = writer.created;
      result.updated = writer.updated;
      result.unchanged = out.unchanged;
      result.changed = [
        ...out.created.map((c) => ({ ref: c.ref, action: 'created' as const })),
        ...out.updated.map((c) => ({ ref: c.ref, action: 'updated' as const })),
      ].slice(0, REPORT_MAX);
      // Targets written by this import exist; the others are looked up once.
      declared = declared.filter((r) => !seen.has(r.target));
      const unresolved = await unresolvedAmong(tx, declared, REPORT_MAX);
      result.unresolved = unresolved.items;
      result.unresolvedCount = unresolved.count;
      if (dryRun) throw new DryRun();
    });
    committed = result.created + result.updated;
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  } finally {
    ended(committed);
  }
  result.failed = errors.length;
  result.skipped = skipped;
  return result;
}
