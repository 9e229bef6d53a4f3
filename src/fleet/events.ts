import type { UpgradeEvent } from '../contracts/fleet.ts';
import type { Db } from '../store/db.ts';
import { insertEvent } from './repository.ts';

/**
 * An upgrade's events: written to the store (polled with ?after=<seq>, kept as its history) and
 * passed at once to whoever follows the upgrade in this process. `end` tells followers it finished.
 */
type Listener = (e: UpgradeEvent | 'end') => void;

export class UpgradeEvents {
  private readonly db: Db;
  private readonly listeners = new Map<string, Set<Listener>>();
  constructor(db: Db) {
    this.db = db;
  }

  async emit(upgradeId: string, e: Omit<UpgradeEvent, 'seq' | 'at'>): Promise<UpgradeEvent> {
    const stored = await insertEvent(this.db, upgradeId, e);
    for (const l of this.listeners.get(upgradeId) ?? []) l(stored);
    return stored;
  }

  end(upgradeId: string): void {
    for (const l of this.listeners.get(upgradeId) ?? []) l('end');
  }

  subscribe(upgradeId: string, l: Listener): () => void {
    const set = this.listeners.get(upgradeId) ?? new Set<Listener>();
    set.add(l);
    this.listeners.set(upgradeId, set);
    return () => {
      set.delete(l);
      if (!set.size) this.listeners.delete(upgradeId);
    };
  }
}
