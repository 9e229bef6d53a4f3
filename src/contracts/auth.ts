import { z } from 'zod';
import { CreatedTokenSchema } from './access.ts';
import { NameSchema } from './common.ts';

/** Sign-in: the providers on offer, local passwords, browser sessions, and the CLI's OIDC flows. */

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export const AuthProvidersSchema = z
  .object({
    oidc: z
      .object({
        name: z.string().describe('the identity provider, for "Sign in with …"'),
        loginUrl: z.string().describe('where the browser starts the sign-in (add ?redirect=/portal/path)'),
        deviceFlow: z.boolean().describe('whether the CLI can sign in with the device authorization grant'),
      })
      .nullable()
      .describe('null when no identity provider is configured'),
    password: z.boolean().describe('local users may sign in with a password'),
  })
  .meta({ id: 'AuthProviders' });
export type AuthProviders = z.infer<typeof AuthProvidersSchema>;

const TokenRequest = z.strictObject({
  name: NameSchema.optional().describe('name of the token (default cli-<date>-<random>)'),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('default 90'),
});

export const PasswordLoginSchema = z.strictObject({
  user: z.string().min(1).max(300).describe('user name (or ref user:<namespace>/<name>)'),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  token: TokenRequest.optional().describe('issue an API token (for the CLI) instead of starting a browser session'),
});
export type PasswordLogin = z.input<typeof PasswordLoginSchema>;

export const SessionSchema = z
  .object({
    user: z.string().describe('ref of the signed-in user'),
    method: z.enum(['oidc', 'password', 'token']).describe('how the caller signed in'),
    expiresAt: z.string().nullable(),
    csrfToken: z.string().nullable().describe('repeat it in the X-CSRF-Token header of every POST, PUT, PATCH and DELETE made with the session cookie; null for bearer tokens'),
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof SessionSchema>;

export const LoginResultSchema = z.object({
  user: z.string().describe('ref of the signed-in user'),
  session: SessionSchema.nullable().describe('the browser session (its secret is in the HTTP-only cookie), unless a token was asked for'),
  token: CreatedTokenSchema.nullable().describe('the API token, when one was asked for; shown only in this response'),
});
export type LoginResult = z.infer<typeof LoginResultSchema>;

export const PasswordSetSchema = z.strictObject({
  password: z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(PASSWORD_MAX_LENGTH),
  currentPassword: z.string().max(PASSWORD_MAX_LENGTH).optional().describe('required when users change their own password; admins may set anyone\'s without it'),
});
export type PasswordSet = z.input<typeof PasswordSetSchema>;

export const OidcLoginQuerySchema = z.strictObject({
  redirect: z.string().max(2000).optional().describe('portal path to return to after signing in (default /)'),
  cli_redirect: z.string().max(200).optional().describe("the CLI's loopback URL (http://127.0.0.1:<port>/…), for pave login --oidc --browser"),
  cli_state: z.string().min(16).max(200).optional(),
  cli_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an S256 PKCE challenge').optional(),
});

export const OidcCallbackQuerySchema = z.record(z.string(), z.union([z.string(), z.array(z.string())])).describe('what the identity provider sends back: code and state, or error');

export const DeviceStartSchema = z
  .object({
    handle: z.string().describe('poll with it; keep it secret'),
    userCode: z.string(),
    verificationUri: z.string(),
    verificationUriComplete: z.string().nullable(),
    expiresIn: z.number().int(),
    interval: z.number().int().describe('seconds to wait between polls'),
  })
  .meta({ id: 'DeviceSignIn' });
export type DeviceStart = z.infer<typeof DeviceStartSchema>;

export const DevicePollSchema = TokenRequest.extend({ handle: z.string().min(1).max(200) });

export const CliTokenResultSchema = z.object({
  status: z.enum(['pending', 'slow_down', 'done']),
  user: z.string().nullable(),
  token: CreatedTokenSchema.nullable(),
});
export type CliTokenResult = z.infer<typeof CliTokenResultSchema>;

export const CliCodeExchangeSchema = TokenRequest.extend({
  code: z.string().min(1).max(200),
  verifier: z.string().min(43).max(128),
});
