import { satisfies, valid as validSemver, validRange } from 'semver';
import type { FleetSelector, PatternKind } from '../contracts/fleet.ts';
import type { FleetApp } from './inventory.ts';

/**
 * Which applications a plan is about: every field of the selector narrows (AND), the values of a
 * list are alternatives (OR). Names may be given short (`shop`, `payments`) or as refs.
 */

const appRef = (s: string) => (s.includes(':') ? s : `application:${s.includes('/') ? s : `default/${s}`}`);
const teamRef = (s: string) => (s.includes(':') ? s.replace(/^group:/, 'team:') : `team:${s.includes('/') ? s : `default/${s}`}`);

/** Whether `version` is one of `wanted` (exact versions, or semver ranges such as 1.x). */
export function versionMatches(version: string, wanted: readonly string[]): boolean {
  return wanted.some((w) => w === version || (validSemver(version) !== null && validRange(w) !== null && satisfies(version, w)));
}

export function matchesSelector(app: FleetApp, s: FleetSelector, kind: PatternKind, name: string): boolean {
  if (s.applications?.length) {
    const refs = new Set(s.applications.map(appRef));
    if (!refs.has(app.ref)) return false;
  }
  if (s.teams?.length) {
    const teams = new Set(s.teams.map(teamRef));
    if (!app.team || !teams.has(app.team)) return false;
  }
  if (s.environmentTypes?.length && !app.environments.some((e) => (s.environmentTypes as readonly string[]).includes(e.type))) return false;
  if (s.labels) for (const [k, v] of Object.entries(s.labels)) if (app.labels[k] !== v) return false;
  if (s.versions?.length) {
    const versions = kind === 'template' ? (app.template === name ? [app.templateVersion] : []) : app.addons.filter((a) => a.addon === name).map((a) => a.version);
    if (!versions.some((v) => versionMatches(v, s.versions!))) return false;
  }
  return true;
}

/** `key=value` strings → labels; a string without `=` is refused (returns the bad one). */
export function parseLabels(list: readonly string[]): { labels: Record<string, string> } | { bad: string } {
  const labels: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i <= 0) return { bad: l };
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  return { labels };
}
