import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types of the store. Each migration that changes a table changes its type here. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A nullable column that may be left out of an insert. */
type Opt<T> = ColumnType<T | null, T | null | undefined, T | null>;
/** A JSON column with a default. */
type JsonDefault<T> = ColumnType<T, string | T | undefined, string | T>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | T, string | T>;

export interface EntitiesTable {
  id: Generated<string>;
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  title: string | null;
  description: string | null;
  type: string | null;
  lifecycle: string | null;
  owner_ref: string | null;
  system_ref: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  /** labels, annotations, links, spec: json (not jsonb) since 0004, their text kept as the catalog wrote it. */
  labels: Json<Record<string, string>>;
  annotations: Json<Record<string, string>>;
  links: Json<EntityLinkRow[]>;
  spec: Json<Record<string, unknown>>;
  source: string;
  content_hash: string;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EntityLinkRow {
  url: string;
  title?: string;
  icon?: string;
  type?: string;
}

/** Relations as entities declare them (origin_id's entity is source_ref); inverses are derived by target_ref (0004). */
export interface RelationsTable {
  origin_id: string;
  source_ref: string;
  type: string;
  target_ref: string;
}

export interface UserAccountsTable {
  user_id: string;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Timestamp;
}

export interface ApiTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  /** Token scopes (0008): at most these permissions / only these teams' applications; null: no limit. */
  permissions: Opt<string[]>;
  teams: Opt<string[]>;
}

export interface PlatformObjectsTable {
  kind: string;
  name: string;
  version: string;
  content: Json<Record<string, unknown>>;
  digest: string;
  source: string;
  current: Generated<boolean>;
  created_at: Timestamp;
}

export interface PlatformSyncsTable {
  id: Generated<number>;
  source: string;
  revision: string | null;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  loaded: Generated<number>;
  published: Generated<number>;
  errors: Json<unknown[]>;
}

export interface PlatformSecretsTable {
  name: string;
  sealed: Buffer;
  updated_at: Timestamp;
  updated_by: string;
}

export interface ApplicationsTable {
  entity_id: string;
  template: string;
  template_version: string;
  inputs: Json<Record<string, unknown>>;
  workload: Json<Record<string, unknown> | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The application's runtime target over the team profile's (0012); null: the profile's. */
  runtime: Opt<RuntimeName>;
}

export interface ApplicationAddonsTable {
  entity_id: string;
  name: string;
  addon: string;
  version: string;
  inputs: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface EnvironmentsTable {
  id: Generated<string>;
  entity_id: string;
  name: string;
  type: string;
  status: Generated<string>;
  expires_at: NullableTimestamp;
  created_at: Timestamp;
  released_deployment_id: Opt<string>;
  cloned_from: Opt<string>;
  replicas: Opt<number>;
  /** The environment's runtime target over the application's and the team profile's (0012); null: theirs. */
  runtime: Opt<RuntimeName>;
}

/** Where deployments run (0012): the local process runtime, a Kubernetes cluster, or a GitOps repository. */
export type RuntimeName = 'local' | 'kubernetes' | 'gitops';

export type ActionRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed-out';

export interface ActionRunsTable {
  id: Generated<string>;
  entity_id: string;
  environment_id: string;
  action: string;
  title: string;
  source: string;
  kind: 'operation' | 'http' | 'command' | 'lifecycle';
  params: JsonDefault<Record<string, unknown>>;
  status: ActionRunStatus;
  summary: Opt<string>;
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  error: Opt<string>;
  output: JsonDefault<string[]>;
  timeout_ms: number;
  created_by: string;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  duration_ms: Opt<number>;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: Timestamp;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  request_id: Opt<string>;
  details: JsonDefault<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface BuildsTable {
  id: Generated<string>;
  entity_id: string;
  number: number;
  status: 'building' | 'succeeded' | 'failed';
  origin: 'build' | 'registered';
  source: Json<Record<string, unknown>>;
  source_digest: Opt<string>;
  artifact_kind: Opt<'local' | 'image'>;
  artifact_digest: Opt<string>;
  image: Opt<string>;
  processes: JsonDefault<Record<string, string>>;
  release_command: Opt<string>;
  detected: ColumnType<string[], string[] | undefined, string[]>;
  reused: Generated<boolean>;
  error: Opt<string>;
  created_by: string;
  created_at: Timestamp;
  finished_at: NullableTimestamp;
  /** When the built commit was made (0009): git builds know it; null for folders, archives and registered artifacts. */
  commit_time: NullableTimestamp;
}

export interface EnvironmentConfigsTable {
  environment_id: string;
  version: number;
  variables: JsonDefault<Record<string, string>>;
  secret_names: ColumnType<string[], string[] | undefined, string[]>;
  secrets: Opt<Buffer>;
  change: string;
  created_by: string;
  created_at: Timestamp;
}

/** One process of a deployment as started: its type, replica, command and port. */
export interface DeploymentProcess {
  type: string;
  replica: number;
  command: string;
  port: number | null;
}

export interface DeploymentsTable {
  id: Generated<string>;
  environment_id: string;
  number: number;
  build_id: string;
  config_version: number;
  resource_versions: JsonDefault<Record<string, string>>;
  processes: JsonDefault<DeploymentProcess[]>;
  snapshot: Buffer;
  status: 'starting' | 'healthy' | 'failed';
  running: ColumnType<'running' | 'warm' | 'stopped', 'running' | 'warm' | 'stopped' | undefined, 'running' | 'warm' | 'stopped'>;
  warm_until: NullableTimestamp;
  released_phase: Opt<'succeeded' | 'failed'>;
  error: Opt<string>;
  last_logs: JsonDefault<string[]>;
  promoted_from: Opt<string>;
  created_by: string;
  created_at: Timestamp;
  finished_at: NullableTimestamp;
  duration_ms: Opt<number>;
  /** Where it ran (0012), the target's settings (cluster, namespace, repository; no credentials), its rendered objects (sealed), each object's outcome, and a GitOps commit. */
  runtime: ColumnType<RuntimeName, RuntimeName | undefined, RuntimeName>;
  target: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  rendered: Opt<Buffer>;
  objects: JsonDefault<Record<string, unknown>[]>;
  commit_sha: Opt<string>;
}

export interface ReleasesTable {
  id: Generated<string>;
  environment_id: string;
  deployment_id: string;
  previous_deployment_id: Opt<string>;
  kind: 'release' | 'rollback' | 'promote';
  warm: Generated<boolean>;
  duration_ms: Opt<number>;
  created_by: string;
  created_at: Timestamp;
}

export type ResourceStatus = 'pending' | 'provisioning' | 'ready' | 'failed' | 'deleting' | 'deleted';

export interface ResourcesTable {
  id: Generated<string>;
  uid: string;
  environment_id: string;
  name: string;
  type: string;
  class: string;
  res_id: string;
  origin: string;
  params: JsonDefault<Record<string, unknown>>;
  depends_on: ColumnType<string[], string[] | undefined, string[]>;
  status: ResourceStatus;
  outputs: JsonDefault<Record<string, unknown>>;
  secret_outputs: Opt<Buffer>;
  state: Opt<Buffer>;
  definition: Opt<string>;
  definition_version: Opt<string>;
  driver: Opt<string>;
  applied_digest: Opt<string>;
  error: Opt<string>;
  attempts: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

// ---- identity (0007) ----

/** A local user's password, as an encoded argon2id hash. */
export interface UserPasswordsTable {
  user_id: string;
  hash: string;
  updated_at: Timestamp;
}

/** An OpenID Connect identity (issuer + subject) and the catalog user it signs in as. */
export interface UserIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  email: string | null;
  groups: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Timestamp;
  last_login_at: Timestamp;
}

/** A browser session: the cookie's secret only as a SHA-256 digest, and its CSRF token. */
export interface SessionsTable {
  id: Generated<string>;
  secret_hash: string;
  user_id: string;
  method: 'oidc' | 'password';
  csrf_token: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

/** A short-lived, one-use sign-in request (OIDC state, device code, CLI code), keyed by the SHA-256 of its secret. */
export interface AuthRequestsTable {
  id_hash: string;
  kind: 'oidc' | 'device' | 'cli-code';
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** One failed sign-in, under the key it counts against (`user:<name>` or `ip:<address>`). */
export interface LoginFailuresTable {
  key: string;
  failed_at: Timestamp;
}

// ---- role-based access control (0008) ----

/** A role for a subject (user:… or team:…, whose members it binds), on one team or all ('*'), in some environment types or all ('{*}'). */
export interface RoleBindingsTable {
  id: Generated<string>;
  subject: string;
  role: string;
  team: string;
  environment_types: ColumnType<string[], string[] | undefined, string[]>;
  created_by: string;
  created_at: Timestamp;
}

// ---- fleet upgrades (0010) ----

/** An application held at a version of a template or add-on: upgrades leave it out, with the reason. */
export interface FleetPinsTable {
  entity_id: string;
  kind: 'template' | 'addon';
  name: string;
  version: string;
  reason: string;
  created_by: string;
  created_at: Timestamp;
}

/** A reviewed upgrade plan: the per-application diffs and the exclusions, as computed. */
export interface FleetPlansTable {
  id: Generated<string>;
  kind: 'template' | 'addon';
  name: string;
  version: string;
  selector: JsonDefault<Record<string, unknown>>;
  inputs: JsonDefault<Record<string, unknown>>;
  applications: JsonDefault<unknown[]>;
  excluded: JsonDefault<unknown[]>;
  up_to_date: Generated<number>;
  created_by: string;
  created_at: Timestamp;
}

export interface FleetUpgradesTable {
  id: Generated<string>;
  plan_id: string;
  kind: 'template' | 'addon';
  name: string;
  version: string;
  options: Json<Record<string, unknown>>;
  status: string;
  current_wave: Opt<number>;
  error: Opt<string>;
  created_by: string;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

/** One application of an upgrade: its wave, its state, and what it was before (to put it back). */
export interface FleetUpgradeAppsTable {
  upgrade_id: string;
  entity_id: string | null;
  ref: string;
  position: number;
  wave: number;
  state: string;
  from_version: string;
  to_version: string;
  instances: JsonDefault<string[]>;
  previous: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  environments: JsonDefault<unknown[]>;
  error: Opt<string>;
  attempts: Generated<number>;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  duration_ms: Opt<number>;
}

export interface FleetUpgradeEventsTable {
  seq: Generated<string>;
  upgrade_id: string;
  at: Timestamp;
  type: string;
  wave: Opt<number>;
  application: Opt<string>;
  environment: Opt<string>;
  message: string;
}

// ---- jobs and servers (0011) ----

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A unit of background work claimed by one server at a time (src/jobs/queue.ts). */
export interface JobsTable {
  id: Generated<string>;
  kind: string;
  subject: Opt<string>;
  payload: JsonDefault<unknown>;
  state: JobState;
  concurrency_key: Opt<string>;
  actor: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  takeovers: Generated<number>;
  locked_by: Opt<string>;
  lease_expires_at: NullableTimestamp;
  heartbeat_at: NullableTimestamp;
  run_at: Timestamp;
  created_by: string;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

/** What happened to a job, in order: its handler's progress, claims, takeovers, the end. */
export interface JobEventsTable {
  /** bigserial, read as a number (src/store/db.ts). */
  id: Generated<number>;
  job_id: string;
  at: Timestamp;
  attempt: number;
  server_id: Opt<string>;
  type: string;
  data: ColumnType<unknown, string | null | undefined, string | null>;
}

/** A running Pave server and its heartbeat (src/jobs/servers.ts). */
export interface ServersTable {
  id: string;
  host: string;
  pid: number;
  version: string;
  url: Opt<string>;
  started_at: Timestamp;
  last_seen: Timestamp;
}

export interface Database {
  entities: EntitiesTable;
  relations: RelationsTable;
  user_accounts: UserAccountsTable;
  api_tokens: ApiTokensTable;
  platform_objects: PlatformObjectsTable;
  platform_syncs: PlatformSyncsTable;
  platform_secrets: PlatformSecretsTable;
  applications: ApplicationsTable;
  application_addons: ApplicationAddonsTable;
  environments: EnvironmentsTable;
  resources: ResourcesTable;
  builds: BuildsTable;
  environment_configs: EnvironmentConfigsTable;
  deployments: DeploymentsTable;
  releases: ReleasesTable;
  action_runs: ActionRunsTable;
  audit_events: AuditEventsTable;
  user_passwords: UserPasswordsTable;
  user_identities: UserIdentitiesTable;
  sessions: SessionsTable;
  auth_requests: AuthRequestsTable;
  login_failures: LoginFailuresTable;
  role_bindings: RoleBindingsTable;
  fleet_pins: FleetPinsTable;
  fleet_plans: FleetPlansTable;
  fleet_upgrades: FleetUpgradesTable;
  fleet_upgrade_apps: FleetUpgradeAppsTable;
  fleet_upgrade_events: FleetUpgradeEventsTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  servers: ServersTable;
}

export type ResourceRow = Selectable<ResourcesTable>;
export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type BuildRow = Selectable<BuildsTable>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type EnvironmentConfigRow = Selectable<EnvironmentConfigsTable>;
export type ActionRunRow = Selectable<ActionRunsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;

export type EntityRow = Selectable<EntitiesTable>;
export type NewEntityRow = Insertable<EntitiesTable>;
export type EntityRowUpdate = Updateable<EntitiesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type RoleBindingRow = Selectable<RoleBindingsTable>;
export type JobRow = Selectable<JobsTable>;
export type JobEventRow = Selectable<JobEventsTable>;
export type ServerRow = Selectable<ServersTable>;
