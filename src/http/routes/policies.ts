import { refOf } from '../../catalog/model.ts';
import { PolicyListSchema, PolicyTestRequestSchema, PolicyTestResultSchema } from '../../contracts/policies.ts';
import type { PolicyEngine } from '../../policies/engine.ts';
import type { PlatformSync } from '../../platform/sync.ts';
import { defineRoute, type RawInput, type Route } from '../route.ts';

/** A dry run about an existing application reads it: its name and environment from the body. */
const named = (i: RawInput): { application?: unknown; namespace?: unknown; environment?: unknown } => (typeof i.body === 'object' && i.body !== null ? (i.body as Record<string, unknown>) : {});

/** Policies: those in force (and those the last sync could not load), and the dry run of a request. */
export function policyRoutes(policies: PolicyEngine, sync: PlatformSync): Route[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/policies', operationId: 'listPolicies', summary: 'The policies in force, and those the last platform sync could not load', tag: 'policies',
      description: 'Policies are platform objects (kind Policy): a CEL expression (deny) true when a request must be refused, and the reason given. A policy that does not compile is reported here and in the sync report, with file and line, and is not in force.',
      permission: { name: 'platform.read' },
      response: { status: 200, description: 'Policies', schema: PolicyListSchema },
      handler: async () => {
        const last = await sync.lastSync();
        return {
          items: await policies.list(),
          errors: (last?.errors ?? []).filter((e) => (e as { kind?: string }).kind === 'Policy').map((e) => ({ file: e.file, document: e.document, line: e.line, path: e.path, message: e.message })),
        };
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/policies/test', operationId: 'testPolicies', summary: 'Evaluate a request against every policy without doing it', tag: 'policies',
      description:
        'Each policy\'s decision (applies? denies? with its reason, or its evaluation error) and why, for each environment the request concerns (and each resource of the environment, for resource.provision). Name an existing application (and environment) to take the request from it; request fields given win. Nothing is changed, and nothing is audited.',
      body: PolicyTestRequestSchema, errors: [403, 404], audit: false,
      permission: [
        { name: 'platform.read' },
        {
          name: 'application.read',
          when: (i) => typeof named(i).application === 'string',
          scope: (i) => {
            const b = named(i);
            return { kind: 'application', application: refOf('application', typeof b.namespace === 'string' && b.namespace ? b.namespace : 'default', String(b.application)), ...(typeof b.environment === 'string' ? { environment: b.environment } : {}) };
          },
        },
      ],
      response: { status: 200, description: 'The decisions', schema: PolicyTestResultSchema },
      handler: async ({ body, principal }) => policies.dryRun(body, { user: principal.userRef, roles: principal.roles, grants: async () => principal.grants ?? [] }),
    }),
  ];
}
