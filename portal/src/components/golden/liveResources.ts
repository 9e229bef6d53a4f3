import type { Resource } from '../../api/client.ts';
import type { ApplyRun } from '../../api/useApply.ts';
import { PHASE_STATUS } from './status.ts';

/** A resource as listed, with what the apply going on says about it right now. */
export type LiveResource = Resource & { live: string | null };

/**
 * The stored resources with the apply's latest event for each laid over them: its status, and resources
 * the apply is creating that the list does not have yet. Once the apply is over, a list read after it
 * ended (`listedAt`) is the truth.
 */
export function liveResources(stored: Resource[], listedAt: number, run: ApplyRun | null): LiveResource[] {
  const rows: LiveResource[] = stored.map((r) => ({ ...r, live: null }));
  if (!run || (!run.running && run.finishedAt !== null && listedAt >= run.finishedAt)) return rows;
  for (const e of run.events) {
    let row = rows.find((r) => r.name === e.resource);
    if (!row) {
      row = {
        name: e.resource, type: e.type, class: '', id: '', status: 'pending', origin: '', params: {}, dependsOn: [], outputs: {}, secretOutputs: [],
        definition: null, definitionVersion: null, driver: null, error: null, attempts: 0, updatedAt: new Date(e.at).toISOString(), live: null,
      };
      rows.push(row);
    }
    row.status = PHASE_STATUS[e.phase];
    row.live = e.phase;
    if (e.phase === 'failed' && e.detail) row.error = e.detail;
  }
  return rows;
}
