import type { PlanItem, ResourceEventView, ResourceStatus } from '../../api/client.ts';

/** Colours and words for resource states, apply phases and plan actions, shared by tables, graph and logs. */
export const STATUS_COLORS: Record<ResourceStatus, string> = {
  pending: 'gray',
  provisioning: 'blue',
  ready: 'green',
  failed: 'red',
  deleting: 'orange',
  deleted: 'gray',
};

export const PHASE_COLORS: Record<ResourceEventView['phase'], string> = {
  provisioning: 'blue',
  ready: 'green',
  unchanged: 'teal',
  failed: 'red',
  skipped: 'gray',
  deleting: 'orange',
  deleted: 'gray',
};

/** The state a resource is in once the engine reports a phase for it. */
export const PHASE_STATUS: Record<ResourceEventView['phase'], ResourceStatus> = {
  provisioning: 'provisioning',
  ready: 'ready',
  unchanged: 'ready',
  failed: 'failed',
  skipped: 'pending',
  deleting: 'deleting',
  deleted: 'deleted',
};

/** Phases after which a resource's stored state changed (worth reloading). */
export const SETTLED_PHASES = new Set<ResourceEventView['phase']>(['ready', 'unchanged', 'failed', 'deleted', 'skipped']);

type Action = PlanItem['action'];
export const ACTIONS: Record<Action, { label: string; verb: string; color: string; glyph: string }> = {
  create: { label: 'create', verb: 'to create', color: 'green', glyph: '+' },
  update: { label: 'update', verb: 'to update', color: 'blue', glyph: '~' },
  replace: { label: 'replace', verb: 'to replace', color: 'orange', glyph: '±' },
  retry: { label: 'retry', verb: 'to retry', color: 'violet', glyph: '↻' },
  delete: { label: 'delete', verb: 'to delete', color: 'red', glyph: '−' },
  noop: { label: 'no change', verb: 'unchanged', color: 'gray', glyph: '=' },
};
export const ACTION_ORDER: Action[] = ['create', 'update', 'replace', 'retry', 'delete', 'noop'];
