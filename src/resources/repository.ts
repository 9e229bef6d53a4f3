import type { SecretBox } from '../secrets/secret-box.ts';
import type { Db } from '../store/db.ts';
import type { ResourceRow, ResourceStatus } from '../store/schema.ts';

/**
 * Resource rows. Secret outputs and driver state are sealed with the resource's uid as context, so a
 * sealed value copied to another row does not open. Invariant: a row is deleted only after its
 * driver's delete succeeded; until then it stays, with its error, so nothing is orphaned.
 */
const outputsContext = (uid: string) => `resource:${uid}:secret-outputs`;
const stateContext = (uid: string) => `resource:${uid}:state`;

export interface ResourceRecord {
  row: ResourceRow;
  /** Public and secret outputs together. */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  state: Record<string, unknown> | null;
}

export class ResourceRepository {
  readonly db: Db;
  private readonly box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.db = db;
    this.box = box;
  }

  async rows(environmentId: string): Promise<ResourceRow[]> {
    return this.db.selectFrom('resources').selectAll().where('environment_id', '=', environmentId).orderBy('name').execute();
  }

  open(row: ResourceRow): ResourceRecord {
    const secret = row.secret_outputs ? this.box.openJson<Record<string, unknown>>(row.secret_outputs, outputsContext(row.uid)) : {};
    return {
      row,
      outputs: { ...row.outputs, ...secret },
      secretOutputs: Object.keys(secret),
      state: row.state ? this.box.openJson<Record<string, unknown>>(row.state, stateContext(row.uid)) : null,
    };
  }

  async start(values: {
    uid: string; environmentId: string; name: string; type: string; class: string; resId: string; origin: string;
    params: Record<string, unknown>; dependsOn: string[]; definition: string | null; definitionVersion: string | null; driver: string | null;
  }): Promise<ResourceRow> {
    const set = {
      type: values.type, class: values.class, res_id: values.resId, origin: values.origin, params: JSON.stringify(values.params),
      depends_on: values.dependsOn, definition: values.definition, definition_version: values.definitionVersion, driver: values.driver,
      status: 'provisioning' as ResourceStatus, updated_at: new Date(),
    };
    return this.db
      .insertInto('resources')
      .values({ uid: values.uid, environment_id: values.environmentId, name: values.name, attempts: 1, ...set })
      .onConflict((oc) => oc.column('uid').doUpdateSet((eb) => ({ ...set, attempts: eb('resources.attempts', '+', 1) })))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Keeps what the driver returned: outputs split into public and sealed secret ones, sealed state. */
  async succeeded(row: ResourceRow, result: { outputs: Record<string, unknown>; secretOutputs: string[]; state: Record<string, unknown> }, appliedDigest: string): Promise<void> {
    const secret = new Set(result.secretOutputs);
    const publicOutputs = Object.fromEntries(Object.entries(result.outputs).filter(([k]) => !secret.has(k)));
    const secretOutputs = Object.fromEntries(Object.entries(result.outputs).filter(([k]) => secret.has(k)));
    await this.db
      .updateTable('resources')
      .set({
        status: 'ready',
        outputs: JSON.stringify(publicOutputs),
        secret_outputs: Object.keys(secretOutputs).length ? this.box.sealJson(secretOutputs, outputsContext(row.uid)) : null,
        state: this.box.sealJson(result.state, stateContext(row.uid)),
        applied_digest: appliedDigest,
        error: null,
        updated_at: new Date(),
      })
      .where('id', '=', row.id)
      .execute();
  }

  async setStatus(id: string, status: ResourceStatus, error: string | null): Promise<void> {
    await this.db.updateTable('resources').set({ status, error, updated_at: new Date() }).where('id', '=', id).execute();
  }

  /** A resource that waits for a failed dependency: recorded, so that it shows, but not provisioned. */
  async waiting(values: { uid: string; environmentId: string; name: string; type: string; class: string; resId: string; origin: string; params: Record<string, unknown>; dependsOn: string[] }, error: string): Promise<void> {
    await this.db
      .insertInto('resources')
      .values({ uid: values.uid, environment_id: values.environmentId, name: values.name, type: values.type, class: values.class, res_id: values.resId, origin: values.origin, params: JSON.stringify(values.params), depends_on: values.dependsOn, status: 'pending', error })
      .onConflict((oc) => oc.column('uid').doUpdateSet({ error, updated_at: new Date() }))
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('resources').where('id', '=', id).execute();
  }
}
