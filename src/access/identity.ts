import { sql } from 'kysely';
import { z } from 'zod';
import { refOf, toRef } from '../catalog/model.ts';
import type { CatalogService } from '../catalog/service.ts';
import type { Entity } from '../contracts/catalog.ts';
import { PaveError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { groupsOf, userNameFrom, type TeamMapping } from './mapping.ts';

/**
 * The catalog side of signing in with an identity provider: finds or creates the catalog user of an
 * OpenID Connect identity (issuer + subject, linked in `user_identities`), keeps its display name and
 * email, and sets its memberships of the teams the group mapping manages (see mapping.ts), creating a
 * mapped team that does not exist yet, so that team profiles and ownership follow the provider.
 *
 * Linking: an identity signs in as the user it was linked to at its first sign-in. A first sign-in
 * takes the name from the claims (userNameFrom); when a user of that name exists and is not linked to
 * another identity, it is linked only if its catalog email equals the identity's verified email (so
 * that a provider account named "admin" does not become Pave's admin); otherwise the name gets a
 * suffix (`kim-2`, …).
 */
export interface IdentityClaims {
  sub: string;
  [claim: string]: unknown;
}

export interface SignedInUser {
  userId: string;
  userRef: string;
  userName: string;
  created: boolean;
  /** refs of the teams the mapping put the user in */
  teams: string[];
  groups: string[];
}

const NS = 'default';
const Email = z.email();

export class IdentityService {
  private readonly db: Db;
  private readonly catalog: CatalogService;
  private readonly mapping: TeamMapping;
  private readonly groupsClaim: string;
  constructor(db: Db, catalog: CatalogService, opts: { mapping: TeamMapping; groupsClaim: string }) {
    this.db = db;
    this.catalog = catalog;
    this.mapping = opts.mapping;
    this.groupsClaim = opts.groupsClaim;
  }

  /** Finds or creates the user of an identity and applies its groups; serialised per identity (advisory lock). */
  async signIn(issuer: string, claims: IdentityClaims): Promise<SignedInUser> {
    const groups = groupsOf(claims[this.groupsClaim]);
    const email = typeof claims.email === 'string' && Email.safeParse(claims.email).success ? claims.email.toLowerCase() : undefined;
    const verifiedEmail = email && claims.email_verified !== false ? email : undefined;
    const displayName = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : undefined;
    return this.db.connection().execute(async (conn) => {
      const key = `pave:identity:${issuer}:${claims.sub}`;
      await sql`SELECT pg_advisory_lock(hashtext(${key}))`.execute(conn);
      try {
        const { ref, created } = await this.findOrCreate(issuer, claims, { email, verifiedEmail, displayName, groups });
        const teams = await this.applyGroups(ref, groups, { email, displayName });
        const user = await this.db.selectFrom('entities').select(['id', 'name']).where('ref', '=', ref).executeTakeFirstOrThrow();
        await this.db.insertInto('user_accounts').values({ user_id: user.id, roles: [] }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
        await this.db
          .updateTable('user_identities')
          .set({ email: email ?? null, groups, last_login_at: new Date() })
          .where('issuer', '=', issuer)
          .where('subject', '=', claims.sub)
          .execute();
        return { userId: user.id, userRef: ref, userName: user.name, created, teams, groups };
      } finally {
        await sql`SELECT pg_advisory_unlock(hashtext(${key}))`.execute(conn);
      }
    });
  }

  private async findOrCreate(
    issuer: string,
    claims: IdentityClaims,
    p: { email: string | undefined; verifiedEmail: string | undefined; displayName: string | undefined; groups: string[] },
  ): Promise<{ ref: string; created: boolean }> {
    const linked = await this.db
      .selectFrom('user_identities as i')
      .innerJoin('entities as e', 'e.id', 'i.user_id')
      .select('e.ref')
      .where('i.issuer', '=', issuer)
      .where('i.subject', '=', claims.sub)
      .executeTakeFirst();
    if (linked) return { ref: linked.ref, created: false };
    const base = userNameFrom(claims);
    const names = [base, ...Array.from({ length: 8 }, (_, i) => `${base.slice(0, 60)}-${i + 2}`), `${base.slice(0, 50)}-${claims.sub.replace(/[^a-zA-Z0-9]/g, '').slice(0, 8) || 'x'}`];
    for (const name of names) {
      const ref = refOf('user', NS, name);
      const existing = await this.db.selectFrom('entities').select(['id', 'spec']).where('ref', '=', ref).executeTakeFirst();
      if (existing) {
        const taken = await this.db.selectFrom('user_identities').select('subject').where('user_id', '=', existing.id).executeTakeFirst();
        const profileEmail = ((existing.spec as { profile?: { email?: unknown } }).profile?.email ?? undefined) as unknown;
        const sameEmail = p.verifiedEmail !== undefined && typeof profileEmail === 'string' && profileEmail.toLowerCase() === p.verifiedEmail;
        if (taken || !sameEmail) continue;
        await this.link(issuer, claims.sub, existing.id, p);
        return { ref, created: false };
      }
      try {
        await this.catalog.create('user', {
          name, namespace: NS, memberOf: [],
          ...(p.displayName ? { displayName: p.displayName } : {}),
          ...(p.email ? { email: p.email } : {}),
          description: `Signed in with ${issuer}`,
        } as Parameters<CatalogService['create']>[1]);
      } catch (err) {
        if (err instanceof PaveError && err.status === 409) continue; // made meanwhile by someone else: try the next name
        throw err;
      }
      const row = await this.db.selectFrom('entities').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
      await this.link(issuer, claims.sub, row.id, p);
      return { ref, created: true };
    }
    throw new PaveError(409, 'conflict', 'Conflict', `no free user name for this identity (tried ${names[0]} and ${names.length - 1} others)`);
  }

  private async link(issuer: string, subject: string, userId: string, p: { email: string | undefined; groups: string[] }) {
    await this.db.insertInto('user_identities').values({ issuer, subject, user_id: userId, email: p.email ?? null, groups: p.groups }).execute();
  }

  /** Sets the user's memberships of managed teams to those its groups map to; returns the refs of the mapped teams. */
  private async applyGroups(userRef: string, groups: string[], p: { email: string | undefined; displayName: string | undefined }): Promise<string[]> {
    const wantedNames = this.mapping.teamsFor(groups);
    const wanted = wantedNames.map((n) => refOf('team', NS, n));
    for (const name of wantedNames) await this.ensureTeam(name, groups);
    for (let attempt = 0; ; attempt++) {
      const user = await this.catalog.get(userRef);
      try {
        await this.updateUser(user, wanted, p);
        break;
      } catch (err) {
        if (err instanceof PaveError && err.status === 412 && attempt < 3) continue;
        throw err;
      }
    }
    // Teams that list the user among their members: the managed ones it is no longer in drop it.
    const user = await this.catalog.get(userRef);
    const declared = new Set(this.declaredMemberOf(user));
    const viaTeams = (user.relations ?? []).filter((r) => r.type === 'memberOf' && !declared.has(r.targetRef) && r.resolved).map((r) => r.targetRef);
    for (const teamRef of viaTeams) {
      const name = teamRef.slice(teamRef.indexOf('/') + 1);
      if (!teamRef.startsWith(`team:${NS}/`) || !this.mapping.manages(name) || wanted.includes(teamRef)) continue;
      for (let attempt = 0; ; attempt++) {
        const team = await this.catalog.get(teamRef);
        const members = ((team.spec as { members?: unknown }).members ?? []) as string[];
        const kept = members.filter((m) => toRef(m, { kind: 'user', namespace: team.namespace }) !== userRef);
        if (kept.length === members.length) break;
        try {
          await this.catalog.update('team', teamRef, team.version, { members: kept });
          break;
        } catch (err) {
          if (err instanceof PaveError && err.status === 412 && attempt < 3) continue;
          throw err;
        }
      }
    }
    return wanted;
  }

  private declaredMemberOf(user: Entity): string[] {
    const raw = ((user.spec as { memberOf?: unknown }).memberOf ?? []) as unknown[];
    return raw.filter((m): m is string => typeof m === 'string').map((m) => toRef(m, { kind: 'group', namespace: user.namespace }) ?? m);
  }

  private async updateUser(user: Entity, wanted: string[], p: { email: string | undefined; displayName: string | undefined }): Promise<void> {
    const declared = this.declaredMemberOf(user);
    const keep = declared.filter((ref) => {
      const team = ref.startsWith(`team:${NS}/`) ? ref.slice(ref.indexOf('/') + 1) : undefined;
      return !(team && this.mapping.manages(team));
    });
    const memberOf = [...new Set([...keep, ...wanted])].sort();
    const profile = ((user.spec as { profile?: { email?: string; displayName?: string } }).profile ?? {});
    const patch: { memberOf?: string[]; email?: string; displayName?: string } = {};
    if (memberOf.join(',') !== [...declared].sort().join(',')) patch.memberOf = memberOf;
    if (p.email && profile.email !== p.email) patch.email = p.email;
    if (p.displayName && profile.displayName !== p.displayName) patch.displayName = p.displayName;
    if (Object.keys(patch).length) await this.catalog.update('user', user.ref, user.version, patch);
  }

  private async ensureTeam(name: string, groups: string[]): Promise<void> {
    const ref = refOf('team', NS, name);
    if (await this.db.selectFrom('entities').select('id').where('ref', '=', ref).executeTakeFirst()) return;
    const group = groups.find((g) => this.mapping.teamsFor([g]).includes(name));
    try {
      await this.catalog.create('team', { name, namespace: NS, type: 'team', description: `Created from the identity provider's group ${group ?? name}` } as Parameters<CatalogService['create']>[1]);
    } catch (err) {
      if (!(err instanceof PaveError && err.status === 409)) throw err; // created meanwhile
    }
  }
}
