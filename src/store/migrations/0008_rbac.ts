import { sql, type Kysely } from 'kysely';

/**
 * Role-based access control: role bindings (a user, or every member of a team, bound to a role for
 * one team or all, and for some environment types or all), and the scopes of API tokens (a subset of
 * permissions, a subset of teams; NULL: no limit beyond the user's own rights).
 *
 * Subjects and teams are kept as catalog refs, not ids, so that a binding can be made for a user who
 * has not signed in yet (OpenID Connect creates users at their first sign-in).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE role_bindings (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subject text NOT NULL CHECK (subject ~ '^(user|team):[a-z0-9-]+/.+$'),
      role text NOT NULL CHECK (role IN ('admin', 'platform-engineer', 'developer', 'deployer', 'viewer')),
      team text NOT NULL CHECK (team = '*' OR team ~ '^team:[a-z0-9-]+/.+$'),
      environment_types text[] NOT NULL DEFAULT '{*}',
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (subject, role, team)
    )`.execute(db);
  await sql`CREATE INDEX role_bindings_team ON role_bindings (team)`.execute(db);

  await sql`ALTER TABLE api_tokens ADD COLUMN permissions text[], ADD COLUMN teams text[]`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_tokens DROP COLUMN permissions, DROP COLUMN teams`.execute(db);
  await sql`DROP TABLE role_bindings`.execute(db);
}
