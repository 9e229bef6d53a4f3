/**
 * The fleet API (src/http/routes/fleet.ts): which applications run which version of each template and
 * add-on, pins, upgrade plans, and upgrades in waves with their events. Types come from
 * src/contracts/fleet.ts; nothing here is re-declared.
 */
import { useMemo } from 'react';
import type {
  ApplicationUpgrade,
  Exclusion,
  FleetApplication,
  FleetPattern,
  FleetPlan,
  FleetPlanApplication,
  FleetPlanCreate,
  FleetSelector,
  FleetView,
  PatternKind,
  Pin,
  PinCreate,
  Upgrade,
  UpgradeApplication,
  UpgradeAppState,
  UpgradeCreate,
  UpgradeEvent,
  UpgradeStatus,
  UpgradeSummary,
} from '../../../src/contracts/fleet.ts';
import { createSender, type ApiClientOptions, type PatternSummary } from './client.ts';
import { useSession } from './session.tsx';

export type {
  ApplicationUpgrade,
  Exclusion,
  FleetApplication,
  FleetPattern,
  FleetPlan,
  FleetPlanApplication,
  FleetPlanCreate,
  FleetSelector,
  FleetView,
  PatternKind,
  Pin,
  PinCreate,
  Upgrade,
  UpgradeApplication,
  UpgradeAppState,
  UpgradeCreate,
  UpgradeEvent,
  UpgradeStatus,
  UpgradeSummary,
};
export type FleetVersion = FleetPattern['versions'][number];
export type UpgradeWave = Upgrade['waves'][number];
export type UpgradeEnvironment = UpgradeApplication['environments'][number];
export type InputChange = FleetPlanApplication['inputs'][number];
export type ResourceChange = FleetPlanApplication['resources'][number];

/** The statuses an upgrade ends in (as FINAL_UPGRADE_STATUSES of the contracts; the portal imports their types only). */
const FINAL: Record<UpgradeStatus, boolean> = { running: false, pausing: false, paused: false, cancelling: false, succeeded: true, completed: true, failed: true, cancelled: true };

/** Whether an upgrade has ended (succeeded, completed, failed or cancelled). */
export const isFinal = (s: UpgradeStatus): boolean => FINAL[s];

/** The drill-down's filters (GET /api/v1/fleet/applications); empty strings are no filter. */
export interface FleetApplicationsFilter {
  kind: PatternKind;
  name?: string | undefined;
  version?: string | undefined;
  team?: string | undefined;
  environmentType?: string | undefined;
  behind?: boolean | undefined;
  limit?: number | undefined;
}

const seg = encodeURIComponent;

export function createFleetClient(opts: ApiClientOptions) {
  const send = createSender(opts);
  const json = async <T>(...args: Parameters<typeof send>): Promise<T> => (await send(...args)).json() as Promise<T>;
  const appQuery = (namespace: string) => ({ namespace });
  return {
    /** Per template and add-on: applications and environments per version, the latest, how many are behind, the pins. */
    view: (signal?: AbortSignal) => json<FleetView>('/api/v1/fleet', { signal }),
    applications: (f: FleetApplicationsFilter, signal?: AbortSignal) =>
      json<{ items: FleetApplication[]; truncated: boolean }>('/api/v1/fleet/applications', {
        query: { kind: f.kind, name: f.name, version: f.version, team: f.team, environmentType: f.environmentType, behind: f.behind === undefined ? undefined : String(f.behind), limit: f.limit },
        signal,
      }),
    createPlan: (body: FleetPlanCreate) => json<FleetPlan>('/api/v1/fleet/plans', { method: 'POST', body }),
    plan: (id: string, signal?: AbortSignal) => json<FleetPlan>(`/api/v1/fleet/plans/${seg(id)}`, { signal }),
    start: (body: UpgradeCreate) => json<Upgrade>('/api/v1/fleet/upgrades', { method: 'POST', body }),
    upgrades: (q: { status?: UpgradeStatus; limit?: number } = {}, signal?: AbortSignal) => json<{ items: UpgradeSummary[] }>('/api/v1/fleet/upgrades', { query: { ...q }, signal }),
    upgrade: (id: string, signal?: AbortSignal) => json<Upgrade>(`/api/v1/fleet/upgrades/${seg(id)}`, { signal }),
    /** Events after `after` (a seq), and the upgrade's status now. */
    events: (id: string, after: number, signal?: AbortSignal) => json<{ items: UpgradeEvent[]; status: UpgradeStatus }>(`/api/v1/fleet/upgrades/${seg(id)}/events`, { query: { after }, signal }),
    pause: (id: string) => json<Upgrade>(`/api/v1/fleet/upgrades/${seg(id)}/pause`, { method: 'POST' }),
    resume: (id: string) => json<Upgrade>(`/api/v1/fleet/upgrades/${seg(id)}/resume`, { method: 'POST' }),
    cancel: (id: string) => json<Upgrade>(`/api/v1/fleet/upgrades/${seg(id)}/cancel`, { method: 'POST' }),
    /** One version of a template or add-on: its inputs as form fields (to ask for the inputs a new version adds). */
    pattern: (kind: PatternKind, name: string, version: string, signal?: AbortSignal) =>
      json<PatternSummary>(`/api/v1/platform/${kind === 'template' ? 'templates' : 'addons'}/${seg(name)}`, { query: { version }, signal }),
    /** An application's upgrades (newest first) and its pins. */
    history: (namespace: string, name: string, signal?: AbortSignal) =>
      json<{ items: ApplicationUpgrade[]; pins: Pin[] }>(`/api/v1/applications/${seg(name)}/upgrades`, { query: appQuery(namespace), signal }),
    pin: (namespace: string, name: string, body: PinCreate) => json<Pin>(`/api/v1/applications/${seg(name)}/pins`, { method: 'POST', query: appQuery(namespace), body }),
    unpin: (namespace: string, name: string, kind: PatternKind, pattern: string) =>
      json<Pin>(`/api/v1/applications/${seg(name)}/pins/${seg(kind)}/${seg(pattern)}`, { method: 'DELETE', query: appQuery(namespace) }),
  };
}

export type FleetClient = ReturnType<typeof createFleetClient>;

/** The fleet client with the session's token; a 401 ends the session. */
export function useFleetApi(): FleetClient {
  const { token, signOut } = useSession();
  return useMemo(() => createFleetClient({ token, onUnauthorized: signOut }), [token, signOut]);
}
