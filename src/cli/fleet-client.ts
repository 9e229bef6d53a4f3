import type {
  ApplicationUpgrade,
  FleetApplication,
  FleetPattern,
  FleetPlan,
  FleetPlanCreate,
  Pin,
  PinCreate,
  PatternKind,
  Upgrade,
  UpgradeCreate,
  UpgradeEvent,
  UpgradeStatus,
  UpgradeSummary,
} from '../contracts/fleet.ts';
import { ApiError, PaveClient } from './client.ts';
import type { Connection } from './config.ts';
import { ndjson, type AppRef } from './golden-client.ts';

/**
 * The fleet half of the API, typed: the fleet view, pins, plans, upgrades and their progress (polled
 * with ?after=<seq>, or followed as NDJSON until the upgrade ends).
 */
export type { ApplicationUpgrade, FleetApplication, FleetPattern, FleetPlan, Pin, Upgrade, UpgradeEvent, UpgradeSummary };

const enc = encodeURIComponent;
const NDJSON = 'application/x-ndjson';
/** An upgrade has no end the client knows of. */
const FOREVER_MS = 2 ** 31 - 1;

export class FleetClient {
  readonly api: PaveClient;
  constructor(conn: Connection) {
    this.api = new PaveClient(conn.url, conn.token);
  }

  view(q: { kind?: PatternKind | undefined; name?: string | undefined } = {}): Promise<{ items: FleetPattern[] }> {
    return this.api.json('GET', '/api/v1/fleet', { query: q });
  }

  applications(q: { kind?: PatternKind; name?: string | undefined; version?: string | undefined; team?: string | undefined; environmentType?: string | undefined; label?: string[] | undefined; behind?: boolean | undefined }): Promise<{ items: FleetApplication[]; truncated: boolean }> {
    return this.api.json('GET', '/api/v1/fleet/applications', { query: { ...q, behind: q.behind === undefined ? undefined : String(q.behind) } });
  }

  plan(body: FleetPlanCreate): Promise<FleetPlan> {
    return this.api.json('POST', '/api/v1/fleet/plans', { body, timeoutMs: 10 * 60_000 });
  }

  getPlan(id: string): Promise<FleetPlan> {
    return this.api.json('GET', `/api/v1/fleet/plans/${enc(id)}`);
  }

  start(body: UpgradeCreate): Promise<Upgrade> {
    return this.api.json('POST', '/api/v1/fleet/upgrades', { body });
  }

  list(q: { status?: UpgradeStatus | undefined; limit?: number | undefined } = {}): Promise<{ items: UpgradeSummary[] }> {
    return this.api.json('GET', '/api/v1/fleet/upgrades', { query: q });
  }

  get(id: string): Promise<Upgrade> {
    return this.api.json('GET', `/api/v1/fleet/upgrades/${enc(id)}`);
  }

  control(id: string, verb: 'pause' | 'resume' | 'cancel'): Promise<Upgrade> {
    return this.api.json('POST', `/api/v1/fleet/upgrades/${enc(id)}/${verb}`, { timeoutMs: 30 * 60_000 });
  }

  events(id: string, after = 0): Promise<{ items: UpgradeEvent[]; status: UpgradeStatus }> {
    return this.api.json('GET', `/api/v1/fleet/upgrades/${enc(id)}/events`, { query: { after } });
  }

  /** Follows the upgrade's events until it ends; resolves with the upgrade as it ended. */
  async follow(id: string, onEvent: (e: UpgradeEvent) => void, after = 0): Promise<Upgrade> {
    const res = await this.api.send('GET', `/api/v1/fleet/upgrades/${enc(id)}/events`, { query: { follow: 'true', after }, headers: { accept: `${NDJSON}, application/problem+json` }, timeoutMs: FOREVER_MS });
    if (!res.body) throw new ApiError(res.status, res.url, { detail: 'the server sent no stream' });
    for await (const msg of ndjson(res.body)) {
      const m = msg as { event?: UpgradeEvent; result?: Upgrade; error?: { status?: number; detail?: string } };
      if (m.event) onEvent(m.event);
      else if (m.result) return m.result;
      else if (m.error) throw new ApiError(m.error.status ?? 500, res.url, m.error);
    }
    throw new ApiError(502, res.url, { detail: 'the stream ended before the upgrade did' });
  }

  pins(app: AppRef): Promise<{ items: Pin[] }> {
    return this.api.json('GET', `/api/v1/applications/${enc(app.name)}/pins`, { query: { namespace: app.namespace } });
  }

  pin(app: AppRef, body: PinCreate): Promise<Pin> {
    return this.api.json('POST', `/api/v1/applications/${enc(app.name)}/pins`, { query: { namespace: app.namespace }, body });
  }

  unpin(app: AppRef, kind: PatternKind, name: string): Promise<Pin> {
    return this.api.json('DELETE', `/api/v1/applications/${enc(app.name)}/pins/${kind}/${enc(name)}`, { query: { namespace: app.namespace } });
  }

  history(app: AppRef): Promise<{ items: ApplicationUpgrade[]; pins: Pin[] }> {
    return this.api.json('GET', `/api/v1/applications/${enc(app.name)}/upgrades`, { query: { namespace: app.namespace } });
  }
}
