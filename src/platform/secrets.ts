import { notFound } from '../errors.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Db } from '../store/db.ts';

/**
 * Platform secrets: credentials that resource definitions reference as `{ secretRef: NAME }`, such as a
 * driver's admin URL. Stored sealed; their values are never returned by the API, only their names.
 */
const context = (name: string) => `platform-secret:${name}`;

export class PlatformSecrets {
  private readonly db: Db;
  private readonly box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.db = db;
    this.box = box;
  }

  async set(name: string, value: string, by: string): Promise<void> {
    const sealed = this.box.encrypt(value, context(name));
    await this.db
      .insertInto('platform_secrets')
      .values({ name, sealed, updated_by: by })
      .onConflict((oc) => oc.column('name').doUpdateSet({ sealed, updated_by: by, updated_at: new Date() }))
      .execute();
  }

  /** Sets a secret only when it does not exist yet; returns whether it did. */
  async seed(name: string, value: string): Promise<boolean> {
    const res = await this.db.insertInto('platform_secrets').values({ name, sealed: this.box.encrypt(value, context(name)), updated_by: 'pave' }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async list(): Promise<{ name: string; updatedAt: string; updatedBy: string }[]> {
    const rows = await this.db.selectFrom('platform_secrets').select(['name', 'updated_at', 'updated_by']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, updatedAt: new Date(r.updated_at).toISOString(), updatedBy: r.updated_by }));
  }

  async delete(name: string): Promise<void> {
    const res = await this.db.deleteFrom('platform_secrets').where('name', '=', name).executeTakeFirst();
    if (!res.numDeletedRows) throw notFound(`platform secret ${name}`);
  }

  /** Values for the given names; a missing one is an error naming it. */
  async reveal(names: string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows = await this.db.selectFrom('platform_secrets').select(['name', 'sealed']).where('name', 'in', names).execute();
    const out = new Map(rows.map((r) => [r.name, this.box.decrypt(r.sealed, context(r.name))]));
    const missing = names.filter((n) => !out.has(n));
    if (missing.length) throw new Error(`platform secret ${missing.join(', ')} is not set; a platform engineer sets it with: pave platform secrets set ${missing[0]}`);
    return out;
  }
}
