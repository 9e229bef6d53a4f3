/** Words and colours of the fleet: upgrade statuses, application and environment states, exclusion codes, pattern kinds. */
import type { Exclusion, PatternKind, UpgradeAppState, UpgradeEnvironment, UpgradeStatus, UpgradeWave } from '../../api/fleet.ts';

export const UPGRADE_STATUS_COLORS: Record<UpgradeStatus, string> = {
  running: 'blue',
  pausing: 'yellow',
  paused: 'yellow',
  cancelling: 'orange',
  succeeded: 'green',
  completed: 'teal',
  failed: 'red',
  cancelled: 'gray',
};

export const APP_STATE_COLORS: Record<UpgradeAppState, string> = {
  pending: 'gray',
  upgrading: 'blue',
  reverting: 'orange',
  upgraded: 'green',
  failed: 'red',
  skipped: 'gray',
  cancelled: 'gray',
};

export const ENV_STATE_COLORS: Record<UpgradeEnvironment['state'], string> = {
  pending: 'gray',
  converging: 'blue',
  deploying: 'blue',
  done: 'green',
  failed: 'red',
  reverted: 'orange',
};

export const WAVE_STATUS_COLORS: Record<UpgradeWave['status'], string> = { pending: 'gray', running: 'blue', done: 'green', stopped: 'red' };

export const EXCLUSION_LABELS: Record<Exclusion['code'], { label: string; color: string }> = {
  pinned: { label: 'pinned', color: 'grape' },
  'required-input': { label: 'required input', color: 'orange' },
  'invalid-input': { label: 'invalid input', color: 'orange' },
  'policy-denied': { label: 'policy denied', color: 'red' },
  conflict: { label: 'conflict', color: 'red' },
  upgrading: { label: 'upgrading', color: 'blue' },
  invalid: { label: 'invalid', color: 'red' },
};

export const KIND_LABEL: Record<PatternKind, string> = { template: 'Template', addon: 'Add-on' };

export const ENVIRONMENT_TYPES = ['development', 'preview', 'staging', 'production'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

/** "application:default/shop" → "shop" (other namespaces stay: "payments/shop"). */
export function appName(ref: string): string {
  const m = /^application:([^/]+)\/(.+)$/.exec(ref);
  if (!m) return ref;
  return m[1] === 'default' ? (m[2] ?? ref) : `${m[1]}/${m[2]}`;
}

/** The portal page of an application from its ref. */
export function appPath(ref: string): string {
  const m = /^application:([^/]+)\/(.+)$/.exec(ref);
  return `/applications/${encodeURIComponent(m?.[1] ?? 'default')}/${encodeURIComponent(m?.[2] ?? ref)}`;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
