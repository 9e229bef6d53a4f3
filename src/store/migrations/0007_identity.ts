import { sql, type Kysely } from 'kysely';

/**
 * Enterprise identity: local users' passwords (argon2id), the OpenID Connect identities users signed
 * in with, browser sessions (with their CSRF token), short-lived one-use sign-in requests (OIDC state,
 * nonce and PKCE verifier; device codes; CLI codes), and failed sign-ins for rate limiting.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE user_passwords (
      user_id uuid PRIMARY KEY REFERENCES entities (id) ON DELETE CASCADE,
      hash text NOT NULL CHECK (hash LIKE '$argon2id$%'),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE user_identities (
      issuer text NOT NULL,
      subject text NOT NULL,
      user_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
      email text,
      groups text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      last_login_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (issuer, subject)
    )`.execute(db);
  await sql`CREATE INDEX user_identities_user ON user_identities (user_id)`.execute(db);

  await sql`
    CREATE TABLE sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      secret_hash text NOT NULL UNIQUE,
      user_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
      method text NOT NULL CHECK (method IN ('oidc', 'password')),
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX sessions_user ON sessions (user_id)`.execute(db);
  await sql`CREATE INDEX sessions_expires ON sessions (expires_at)`.execute(db);

  await sql`
    CREATE TABLE auth_requests (
      id_hash text PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('oidc', 'device', 'cli-code')),
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX auth_requests_expires ON auth_requests (expires_at)`.execute(db);

  await sql`
    CREATE TABLE login_failures (
      key text NOT NULL,
      failed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX login_failures_key ON login_failures (key, failed_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE login_failures, auth_requests, sessions, user_identities, user_passwords`.execute(db);
}
