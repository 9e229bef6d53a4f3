/** The API's contracts: zod schemas shared by the server, the CLI and the portal. Nothing here imports server code. */
export * from './common.ts';
export * from './catalog.ts';
export * from './access.ts';
export * from './golden.ts';
export * from './fleet.ts';
export * from './jobs.ts';
