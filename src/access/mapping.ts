import { createHash } from 'node:crypto';
import { NAME_PATTERN } from '../contracts/common.ts';

/**
 * Group → team mapping (PAVE_OIDC_TEAM_MAPPING): comma-separated rules, either exact
 * (`eng-payments=payments`) or a prefix rule with `*` at the end of both sides (`eng-*=*`: group
 * `eng-web` → team `web`; `eng-*=team-*`: → `team-web`). Groups no rule matches are ignored; the first
 * matching rule wins; a mapped name that is not a valid team name is ignored too.
 *
 * A team is *managed* by the mapping when some rule can produce it: the targets of exact rules, and
 * for a prefix rule every team whose name starts with its target prefix (`*` alone: every team).
 * Sign-in adds the user to the managed teams its groups map to and removes it from the other managed
 * teams; memberships of unmanaged teams are left as they are.
 */
export type MappingRule = { kind: 'exact'; group: string; team: string } | { kind: 'prefix'; group: string; team: string };

export interface TeamMapping {
  rules: MappingRule[];
  /** The team names (lower-case) the given groups map to. */
  teamsFor(groups: readonly string[]): string[];
  /** Whether membership of this team (by name) is managed by the identity provider. */
  manages(team: string): boolean;
}

const validTeam = (name: string) => name.length >= 1 && name.length <= 63 && NAME_PATTERN.test(name);

export function parseTeamMapping(spec: string | undefined): TeamMapping {
  const rules: MappingRule[] = [];
  for (const raw of (spec ?? '').split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new Error(`"${part}" is not a mapping rule: write group=team, or prefix-*=* (or prefix-*=team-prefix-*)`);
    const group = part.slice(0, eq).trim();
    const team = part.slice(eq + 1).trim().toLowerCase();
    const prefix = group.endsWith('*');
    if (prefix !== team.endsWith('*')) throw new Error(`"${part}": a prefix rule has "*" at the end of both sides, e.g. eng-*=*`);
    if (group.slice(0, -1).includes('*') || team.slice(0, -1).includes('*')) throw new Error(`"${part}": "*" may only end a rule's sides`);
    if (!prefix && !validTeam(team)) throw new Error(`"${part}": "${team}" is not a valid team name`);
    rules.push(prefix ? { kind: 'prefix', group: group.slice(0, -1), team: team.slice(0, -1) } : { kind: 'exact', group, team });
  }
  const map = (group: string): string | undefined => {
    for (const r of rules) {
      if (r.kind === 'exact' && r.group === group) return r.team;
      if (r.kind === 'prefix' && group.startsWith(r.group) && group.length > r.group.length) {
        const team = (r.team + group.slice(r.group.length)).toLowerCase();
        return validTeam(team) ? team : undefined;
      }
    }
    return undefined;
  };
  return {
    rules,
    teamsFor: (groups) => [...new Set(groups.map(map).filter((t): t is string => t !== undefined))].sort(),
    manages: (team) => rules.some((r) => (r.kind === 'exact' ? r.team === team.toLowerCase() : team.toLowerCase().startsWith(r.team))),
  };
}

/**
 * A catalog user name from an identity's claims: `preferred_username`, else the local part of the
 * email, else the name, else the subject; made to follow Pave's name rules (letters, digits, single
 * `-`, `_` or `.` between them, at most 63), lower-case. Falls back to `user-<hash of subject>`.
 */
export function userNameFrom(claims: { sub: string; preferred_username?: unknown; email?: unknown; name?: unknown }): string {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const email = str(claims.email);
  const candidates = [str(claims.preferred_username)?.split('@')[0], email?.split('@')[0], str(claims.name), claims.sub];
  for (const c of candidates) {
    const name = sanitiseName(c ?? '');
    if (name) return name;
  }
  return `user-${createHash('sha256').update(claims.sub).digest('hex').slice(0, 10)}`;
}

export function sanitiseName(raw: string): string {
  const s = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[-_.]{2,}/g, (m) => m[0]!)
    .replace(/^[-_.]+|[-_.]+$/g, '')
    .slice(0, 63)
    .replace(/[-_.]+$/, '');
  return NAME_PATTERN.test(s) ? s : '';
}

/** The groups in a claim: an array of strings, or one string (some providers send one group as a string). */
export function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string' && g.length > 0);
  return [];
}
