import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLE_PLATFORM } from '../../src/services.ts';

/**
 * The platform of the fleet tests: the sample platform's resource types and definitions, one
 * replica everywhere, and a template `svc` whose versions the tests upgrade between:
 *
 * - 1.0.0: inputs greeting (default v1), legacy, failOnUpgrade ("0"/"1", unused); GREETING in the
 *   workload; actions migrate and smoke.
 * - 2.0.0: legacy gone, tier new (default standard); GREETING now says "<greeting> on 2.0", a
 *   FAIL_HEALTH variable from failOnUpgrade (the fixture app then fails its health check), and a
 *   `data` volume resource whose path is VOLUME; actions migrate (changed timeout) and warmup.
 * - 3.0.0: as 2.0.0 with a new required input region that has no default.
 *
 * An add-on `scratch` (a volume) 1.0.0 → 1.1.0 changes the variable it injects. A policy denies
 * provisioning a volume for applications named blocked-*.
 */
const template = (version: string, body: { inputs: string; variables: string; resources?: string; actions: string }) => `apiVersion: pave.dev/v1
kind: Template
metadata:
  name: svc
  version: ${version}
  title: Fleet test service
spec:
  inputs:
    type: object
${body.inputs}
  workload:
    apiVersion: score.dev/v1b1
    metadata:
      name: svc
    containers:
      web:
        image: .
        variables:
${body.variables}
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
${body.resources ?? ''}
  actions:
${body.actions}
`;

const action = (id: string, timeout = '5m') => `    - id: ${id}
      title: ${id}
      timeout: ${timeout}
      run:
        command: npm run migrate`;

export const V1 = template('1.0.0', {
  inputs: `    properties:
      greeting: { type: string, default: v1 }
      legacy: { type: string, default: old }
      failOnUpgrade: { type: string, enum: ["0", "1"], default: "0" }`,
  variables: `          GREETING: \${inputs.greeting}`,
  actions: [action('migrate'), action('smoke')].join('\n'),
});

const V2_INPUTS = `    properties:
      greeting: { type: string, default: v1 }
      tier: { type: string, enum: [standard, premium], default: standard }
      failOnUpgrade: { type: string, enum: ["0", "1"], default: "0" }`;
const V2_VARIABLES = `          GREETING: \${inputs.greeting} on 2.0
          FAIL_HEALTH: \${inputs.failOnUpgrade}
          VOLUME: \${resources.data.source}`;
const V2_RESOURCES = `    resources:
      data:
        type: volume`;

export const V2 = template('2.0.0', { inputs: V2_INPUTS, variables: V2_VARIABLES, resources: V2_RESOURCES, actions: [action('migrate', '10m'), action('warmup')].join('\n') });

export const V3 = template('3.0.0', {
  inputs: `${V2_INPUTS}
      region: { type: string }
    required: [region]`,
  variables: `${V2_VARIABLES}
          REGION: \${inputs.region}`,
  resources: V2_RESOURCES,
  actions: [action('migrate', '10m'), action('warmup')].join('\n'),
});

const addon = (version: string, output: string) => `apiVersion: pave.dev/v1
kind: AddOn
metadata:
  name: scratch
  version: ${version}
spec:
  resources:
    space:
      type: volume
  outputs:
${output}
`;

export const SCRATCH_1 = addon('1.0.0', '    SCRATCH_DIR: ${resources.space.source}');
export const SCRATCH_11 = addon('1.1.0', '    SCRATCH_DIR: ${resources.space.source}\n    SCRATCH_KIND: local');

export const BLOCK_POLICY = `apiVersion: pave.dev/v1
kind: Policy
metadata:
  name: no-volumes-for-blocked
spec:
  on: [resource.provision]
  deny: request.resource.type == "volume" && request.application.name.startsWith("blocked")
  message: applications named blocked-* get no volume
`;

const PROFILE = `apiVersion: pave.dev/v1
kind: TeamProfile
metadata:
  name: default
spec:
  team: "*"
  defaultTemplate: svc
  environments:
    development: { runtime: local, replicas: 1, healthPath: /healthz }
    staging: { runtime: local, replicas: 1, healthPath: /healthz }
    production: { runtime: local, replicas: 1, healthPath: /healthz }
    preview: { runtime: local, replicas: 1, healthPath: /healthz }
`;

export interface FleetPlatform {
  dir: string;
  /** Adds (or replaces) a file of the platform folder; sync to publish it. */
  write(file: string, text: string): void;
  remove(): void;
}

/** A platform folder with svc 1.0.0 and scratch 1.0.0 (add the later versions with `write`). */
export function fleetPlatform(extra: Record<string, string> = {}): FleetPlatform {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-fleet-platform-'));
  cpSync(path.join(SAMPLE_PLATFORM, 'resource-types'), path.join(dir, 'resource-types'), { recursive: true });
  cpSync(path.join(SAMPLE_PLATFORM, 'resource-definitions'), path.join(dir, 'resource-definitions'), { recursive: true });
  const write = (file: string, text: string) => writeFileSync(path.join(dir, file), text);
  write('profile.yaml', PROFILE);
  write('svc-1.0.0.yaml', V1);
  write('scratch-1.0.0.yaml', SCRATCH_1);
  for (const [f, t] of Object.entries(extra)) write(f, t);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
