import type { Db } from '../store/db.ts';
import type { GoldenState } from './next.ts';

/**
 * Writes an application's golden state (template version, inputs, add-ons) in one transaction: what
 * an upgrade changes, and what putting an application back restores. The rows are those
 * src/applications reads; nothing else about the application changes.
 */
export async function writeGoldenState(db: Db, entityId: string, state: GoldenState): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('applications').set({ template_version: state.templateVersion, inputs: JSON.stringify(state.inputs), updated_at: new Date() }).where('entity_id', '=', entityId).execute();
    const keep = state.addons.map((a) => a.name);
    let del = tx.deleteFrom('application_addons').where('entity_id', '=', entityId);
    if (keep.length) del = del.where('name', 'not in', keep);
    await del.execute();
    for (const a of state.addons) {
      await tx
        .insertInto('application_addons')
        .values({ entity_id: entityId, name: a.name, addon: a.addon, version: a.version, inputs: JSON.stringify(a.inputs) })
        .onConflict((oc) => oc.columns(['entity_id', 'name']).doUpdateSet({ addon: a.addon, version: a.version, inputs: JSON.stringify(a.inputs) }))
        .execute();
    }
  });
}
