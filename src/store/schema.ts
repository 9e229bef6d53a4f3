import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types of the store. Each migration that changes a table changes its type here. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
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
}

export interface Database {
  entities: EntitiesTable;
  relations: RelationsTable;
  user_accounts: UserAccountsTable;
  api_tokens: ApiTokensTable;
}

export type EntityRow = Selectable<EntitiesTable>;
export type NewEntityRow = Insertable<EntitiesTable>;
export type EntityRowUpdate = Updateable<EntitiesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
