import { z } from 'zod';
import { NameSchema } from './common.ts';
import { EnvironmentTypeSchema } from './golden.ts';

// ---- role-based access control (src/access/rbac.ts holds the role → permission table) ----

/** Named actions a route may need; each route declares one (or more) in its RouteSpec. */
export const PERMISSIONS = [
  'catalog.read', 'catalog.write', 'platform.read', 'platform.write', 'policy.write',
  'application.create', 'application.read', 'application.write', 'environment.write', 'config.write',
  'deploy', 'release', 'action.run', 'secret.read',
  'audit.read', 'token.manage', 'user.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const PermissionSchema = z.enum(PERMISSIONS);

export const ROLES = ['admin', 'platform-engineer', 'developer', 'deployer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/** A team ref (`team:default/payments`) or a team name (`payments`, in the default namespace). */
const TeamRefInput = z.string().min(1).max(300).regex(/^(?:(?:team|group):)?(?:[a-z0-9]+(?:-[a-z0-9]+)*\/)?[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/i, 'must be a team name or ref, e.g. payments or team:default/payments');

export const RoleBindingCreateSchema = z.strictObject({
  subject: z.string().min(1).max(300).regex(/^(user|team|group):(?:[a-z0-9]+(?:-[a-z0-9]+)*\/)?[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/i, 'must be user:<name> or team:<name> (optionally with a namespace: user:default/alice)')
    .describe('who is bound: a user (user:alice) or every member of a team (team:sre)'),
  role: RoleSchema,
  team: z.union([z.literal('*'), TeamRefInput]).default('*').describe('the team whose applications the binding covers, or * for every team (and the platform-wide permissions)'),
  environmentTypes: z.union([z.literal('*'), z.array(EnvironmentTypeSchema).min(1).max(4)]).default('*').describe('environment types where environment-bound permissions (deploy, release, action.run, config.write, environment.write, secret.read) hold; * for all'),
});
export type RoleBindingCreate = z.input<typeof RoleBindingCreateSchema>;

export const RoleBindingSchema = z
  .object({
    id: z.string().nullable().describe('null for bindings that come from team membership'),
    subject: z.string(),
    role: RoleSchema,
    team: z.string().describe('a team ref, or *'),
    environmentTypes: z.union([z.literal('*'), z.array(z.string())]),
    source: z.enum(['binding', 'membership', 'account']).describe('binding: made with the API; membership: a team member is a developer of the team; account: the user account\'s own role (the first admin)'),
    createdBy: z.string().nullable(),
    createdAt: z.string().nullable(),
  })
  .meta({ id: 'RoleBinding' });
export type RoleBinding = z.infer<typeof RoleBindingSchema>;
export const RoleBindingListSchema = z.object({ items: z.array(RoleBindingSchema) });
export const RoleBindingQuerySchema = z.strictObject({
  subject: z.string().max(300).optional().describe('only bindings of this subject (user:alice, team:sre)'),
  team: z.string().max(300).optional().describe('only bindings that cover this team (a ref, a name, or *)'),
  role: RoleSchema.optional(),
  user: z.string().max(300).optional().describe('instead: the effective bindings of this user (a name or ref): their own, their teams\', and those of team membership'),
});

export const TokenCreateSchema = z.strictObject({
  name: NameSchema.describe('a name for the token, unique per user, e.g. "ci" or "laptop"'),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('omit for a token that does not expire'),
  permissions: z.array(PermissionSchema).min(1).max(PERMISSIONS.length).optional().describe('at most these permissions (within the user\'s own); omit for all of the user\'s'),
  teams: z.array(TeamRefInput).min(1).max(100).optional().describe('only for these teams\' applications (names or refs); omit for every team the user may act for'),
});
export type TokenCreate = z.input<typeof TokenCreateSchema>;

export const TokenSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    prefix: z.string().describe('the first characters of the token, to recognise it'),
    user: z.string().describe('ref of the user the token acts as'),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    permissions: z.array(z.string()).nullable().optional().describe('the permissions the token is limited to; null: all of its user\'s'),
    teams: z.array(z.string()).nullable().optional().describe('the teams the token is limited to; null: every team of its user'),
  })
  .meta({ id: 'Token' });
export type Token = z.infer<typeof TokenSchema>;
export const CreatedTokenSchema = TokenSchema.extend({ token: z.string().describe('the secret; shown only in this response') });
export const TokenListSchema = z.object({ items: z.array(TokenSchema) });

export const MeSchema = z.object({
  user: z.object({ ref: z.string(), name: z.string(), title: z.string().nullable(), email: z.string().nullable() }),
  roles: z.array(z.string()),
  teams: z.array(z.string()).describe('refs of the teams the user is a member of'),
  token: z.object({
    id: z.string(), name: z.string(), expiresAt: z.string().nullable(),
    permissions: z.array(z.string()).nullable().optional(), teams: z.array(z.string()).nullable().optional(),
  }),
  bindings: z.array(RoleBindingSchema).optional().describe('the caller\'s effective role bindings: their own, their teams\', and those of team membership'),
  permissions: z.array(z.object({
    permission: z.string(),
    teams: z.union([z.literal('*'), z.array(z.string())]),
    where: z.array(z.object({ team: z.string(), environmentTypes: z.union([z.literal('*'), z.array(z.string())]) })).describe('each team (or *) and the environment types (or *) where it holds'),
  })).optional()
    .describe('what the caller (with this token) may do, and for which teams (environment types aside)'),
});
export type Me = z.infer<typeof MeSchema>;
