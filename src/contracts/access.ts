import { z } from 'zod';
import { NameSchema } from './common.ts';

export const TokenCreateSchema = z.strictObject({
  name: NameSchema.describe('a name for the token, unique per user, e.g. "ci" or "laptop"'),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('omit for a token that does not expire'),
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
  })
  .meta({ id: 'Token' });
export type Token = z.infer<typeof TokenSchema>;
export const CreatedTokenSchema = TokenSchema.extend({ token: z.string().describe('the secret; shown only in this response') });
export const TokenListSchema = z.object({ items: z.array(TokenSchema) });

export const MeSchema = z.object({
  user: z.object({ ref: z.string(), name: z.string(), title: z.string().nullable(), email: z.string().nullable() }),
  roles: z.array(z.string()),
  teams: z.array(z.string()).describe('refs of the teams the user is a member of'),
  token: z.object({ id: z.string(), name: z.string(), expiresAt: z.string().nullable() }),
});
export type Me = z.infer<typeof MeSchema>;
