import { sql, type Kysely } from 'kysely';

/**
 * Fleet upgrades: pins (an application held at a template or add-on version, with its reason),
 * reviewed plans, upgrades with their per-application state (what the application was before, so
 * that a failed or interrupted upgrade puts it back), and the upgrade's events (progress, polled by seq).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE fleet_pins (
      entity_id uuid NOT NULL REFERENCES applications (entity_id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('template', 'addon')),
      name text NOT NULL,
      version text NOT NULL,
      reason text NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (entity_id, kind, name)
    )`.execute(db);
  await sql`CREATE INDEX fleet_pins_pattern ON fleet_pins (kind, name)`.execute(db);

  await sql`
    CREATE TABLE fleet_plans (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL CHECK (kind IN ('template', 'addon')),
      name text NOT NULL,
      version text NOT NULL,
      selector jsonb NOT NULL DEFAULT '{}',
      inputs jsonb NOT NULL DEFAULT '{}',
      applications jsonb NOT NULL DEFAULT '[]',
      excluded jsonb NOT NULL DEFAULT '[]',
      up_to_date integer NOT NULL DEFAULT 0,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE fleet_upgrades (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      plan_id uuid NOT NULL REFERENCES fleet_plans (id),
      kind text NOT NULL CHECK (kind IN ('template', 'addon')),
      name text NOT NULL,
      version text NOT NULL,
      options jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'pausing', 'paused', 'cancelling', 'succeeded', 'completed', 'failed', 'cancelled')),
      current_wave integer,
      error text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX fleet_upgrades_plan ON fleet_upgrades (plan_id)`.execute(db);
  await sql`CREATE INDEX fleet_upgrades_active ON fleet_upgrades (status) WHERE status IN ('running', 'pausing', 'paused', 'cancelling')`.execute(db);

  await sql`
    CREATE TABLE fleet_upgrade_apps (
      upgrade_id uuid NOT NULL REFERENCES fleet_upgrades (id) ON DELETE CASCADE,
      entity_id uuid REFERENCES applications (entity_id) ON DELETE SET NULL,
      ref text NOT NULL,
      position integer NOT NULL,
      wave integer NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'upgrading', 'reverting', 'upgraded', 'failed', 'skipped', 'cancelled')),
      from_version text NOT NULL,
      to_version text NOT NULL,
      instances jsonb NOT NULL DEFAULT '[]',
      previous jsonb,
      environments jsonb NOT NULL DEFAULT '[]',
      error text,
      attempts integer NOT NULL DEFAULT 0,
      started_at timestamptz,
      finished_at timestamptz,
      duration_ms integer,
      PRIMARY KEY (upgrade_id, ref)
    )`.execute(db);
  await sql`CREATE INDEX fleet_upgrade_apps_entity ON fleet_upgrade_apps (entity_id)`.execute(db);
  await sql`CREATE INDEX fleet_upgrade_apps_order ON fleet_upgrade_apps (upgrade_id, wave, position)`.execute(db);

  await sql`
    CREATE TABLE fleet_upgrade_events (
      seq bigserial PRIMARY KEY,
      upgrade_id uuid NOT NULL REFERENCES fleet_upgrades (id) ON DELETE CASCADE,
      at timestamptz NOT NULL DEFAULT now(),
      type text NOT NULL,
      wave integer,
      application text,
      environment text,
      message text NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX fleet_upgrade_events_upgrade ON fleet_upgrade_events (upgrade_id, seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE fleet_upgrade_events`.execute(db);
  await sql`DROP TABLE fleet_upgrade_apps`.execute(db);
  await sql`DROP TABLE fleet_upgrades`.execute(db);
  await sql`DROP TABLE fleet_plans`.execute(db);
  await sql`DROP TABLE fleet_pins`.execute(db);
}
