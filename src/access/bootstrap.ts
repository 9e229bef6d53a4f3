import { sql } from 'kysely';
import { refOf } from '../catalog/model.ts';
import { upsertEntities } from '../catalog/repository.ts';
import type { Db } from '../store/db.ts';
import { hashToken, newTokenSecret } from './tokens.ts';

const LOCK_KEY = 7_400_001;

/**
 * First start: when no admin exists, creates the user `admin` with the admin role and one API token
 * (PAVE_BOOTSTRAP_TOKEN, or a random one), and returns the token so it can be shown once. Serialised by
 * an advisory lock, so two servers starting together create one admin. Returns undefined otherwise.
 */
export async function bootstrapAdmin(db: Db, presetToken?: string): Promise<{ token: string; preset: boolean } | undefined> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${LOCK_KEY})`.execute(tx);
    const admin = await tx.selectFrom('user_accounts').select('user_id').where(sql<boolean>`roles @> ARRAY['admin']::text[]`).limit(1).executeTakeFirst();
    if (admin) return undefined;
    const ref = refOf('user', 'default', 'admin');
    let user = await tx.selectFrom('entities').select('id').where('ref', '=', ref).executeTakeFirst();
    if (!user) {
      await upsertEntities(tx, [
        {
          source: 'bootstrap',
          draft: {
            kind: 'user', namespace: 'default', name: 'admin', title: 'Administrator', description: 'Created on first start',
            type: null, lifecycle: null, owner: null, system: null, tags: [], labels: {}, annotations: {}, links: [],
            spec: { profile: { displayName: 'Administrator' }, memberOf: [] }, relations: [],
          },
        },
      ]);
      user = await tx.selectFrom('entities').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    }
    await tx.insertInto('user_accounts').values({ user_id: user.id, roles: ['admin'] }).onConflict((oc) => oc.column('user_id').doUpdateSet({ roles: ['admin'] })).execute();
    const token = presetToken ?? newTokenSecret();
    await tx.deleteFrom('api_tokens').where('user_id', '=', user.id).where('name', '=', 'bootstrap').execute();
    await tx.insertInto('api_tokens').values({ user_id: user.id, name: 'bootstrap', token_hash: hashToken(token), prefix: token.slice(0, 12) }).execute();
    return { token, preset: presetToken !== undefined };
  });
}
