/** Words and colours for deployments: statuses, ages, durations and digests. */

export const ENV_STATUS_COLORS: Record<string, string> = {
  running: 'green',
  degraded: 'orange',
  down: 'red',
  empty: 'gray',
  deleting: 'orange',
  'delete-failed': 'red',
  committed: 'green',
  'out-of-sync': 'orange',
  unknown: 'gray',
};

/** Where an environment's deployments run (runtime targets). */
export const RUNTIME_COLORS: Record<string, string> = { local: 'gray', kubernetes: 'blue', gitops: 'grape' };
/** A Kubernetes object's (or GitOps file's) state. */
export const OBJECT_STATE_COLORS: Record<string, string> = {
  ready: 'green', applied: 'green', committed: 'green', progressing: 'blue', rendered: 'blue', missing: 'red', failed: 'red', pruned: 'gray', skipped: 'gray', omitted: 'yellow',
};

export const DEPLOYMENT_STATUS_COLORS: Record<string, string> = { healthy: 'green', failed: 'red', starting: 'blue' };
export const RUNNING_COLORS: Record<string, string> = { running: 'green', warm: 'yellow', stopped: 'gray' };
export const BUILD_STATUS_COLORS: Record<string, string> = { succeeded: 'green', failed: 'red', building: 'blue' };
export const PROCESS_STATE_COLORS: Record<string, string> = { running: 'green', starting: 'blue', backoff: 'red', stopping: 'orange', stopped: 'gray' };

/** "sha256:0123456789ab…" → "0123456789ab". */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return '—';
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** How long ago, in words: "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export const fullTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '');

/** "user:default/admin" → "admin". */
export function who(ref: string | null | undefined): string {
  if (!ref) return '—';
  return ref.replace(/^[a-z]+:(default\/)?/, '');
}
