import type { Change } from '../contracts/deployments.ts';
import { diffConfig } from './config.ts';

/**
 * A deployment's snapshot, sealed in the store: every variable its processes get (secrets included,
 * in clear only inside the seal), which of them are secret, the health path and the artifact.
 */
export interface Snapshot {
  variables: Record<string, string>;
  secretNames: string[];
  healthPath: string;
  artifact: string;
}

const split = (s: Snapshot) => {
  const secret = new Set(s.secretNames);
  const variables: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.variables)) (secret.has(k) ? secrets : variables)[k] = v;
  return { variables, secrets };
};

/** Variables that differ between two snapshots; secret values are never shown, only that they changed. */
export function diffSnapshots(a: Snapshot, b: Snapshot): Change[] {
  return diffConfig(split(a), split(b));
}
