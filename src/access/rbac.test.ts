import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Grant, Principal } from './principal.ts';
import { can, decide, effectivePermissions, isFullAdmin, subjectRef, teamRef } from './rbac.ts';

const PAYMENTS = 'team:default/payments';
const SEARCH = 'team:default/search';

function caller(grants: Partial<Grant>[], extra: Partial<Principal> = {}): Principal {
  return {
    userId: 'u', userRef: 'user:default/kim', userName: 'kim', roles: [], tokenId: 't', tokenName: 'cli', tokenExpiresAt: null,
    grants: grants.map((g) => ({ role: 'developer', team: PAYMENTS, environmentTypes: '*', source: 'binding', ...g }) as Grant),
    ...extra,
  };
}

describe('decide', () => {
  test('a team member: their team, in development, staging and preview', () => {
    const dev = caller([{ source: 'membership', environmentTypes: ['development', 'staging', 'preview'] }]);
    assert.ok(can(dev, 'deploy', { team: PAYMENTS, environmentType: 'staging' }));
    assert.ok(!can(dev, 'deploy', { team: PAYMENTS, environmentType: 'production' }));
    assert.ok(!can(dev, 'deploy', { team: SEARCH, environmentType: 'development' }));
    // not environment-bound: anywhere in the team
    assert.ok(can(dev, 'application.read', { team: PAYMENTS, environmentType: 'production' }));
    // platform-wide: never from a team binding
    assert.ok(!can(dev, 'audit.read'));
    // everyone reads the catalog
    assert.ok(can(caller([]), 'catalog.read'));
    assert.ok(!can(caller([]), 'application.read', { team: PAYMENTS }));
  });

  test('an application no team owns is covered only by bindings for every team', () => {
    assert.ok(!can(caller([{}]), 'application.read', { team: null, application: 'application:default/x' }));
    assert.ok(can(caller([{ role: 'viewer', team: '*' }]), 'application.read', { team: null, application: 'application:default/x' }));
  });

  test('a missing target: the permission for any team lets the handler answer 404', () => {
    assert.ok(can(caller([{ team: SEARCH }]), 'application.write', { application: 'application:default/gone', missing: true }));
    assert.ok(!can(caller([{ role: 'viewer', team: SEARCH }]), 'application.write', { application: 'application:default/gone', missing: true }));
  });

  test('all environment types of an application must each be covered, by one grant or several', () => {
    const scope = { team: PAYMENTS, environmentTypes: ['development', 'production'] };
    assert.ok(!can(caller([{ environmentTypes: ['development'] }]), 'environment.write', scope));
    assert.ok(can(caller([{ environmentTypes: ['development'] }, { role: 'admin', environmentTypes: ['production'] }]), 'environment.write', scope));
    assert.match(decide(caller([{ environmentTypes: ['development'] }]), 'environment.write', scope).reason!, /production environments/);
  });

  test('token scopes intersect with the user\'s rights', () => {
    const admin = caller([], { roles: ['admin'] });
    assert.ok(isFullAdmin(admin));
    const scoped = { ...admin, scopes: { permissions: ['deploy'], teams: [PAYMENTS] } };
    assert.ok(!isFullAdmin(scoped));
    assert.ok(can(scoped, 'deploy', { team: PAYMENTS, environmentType: 'production' }));
    assert.ok(!can(scoped, 'deploy', { team: SEARCH, environmentType: 'production' }));
    assert.ok(!can(scoped, 'release', { team: PAYMENTS, environmentType: 'production' }));
    assert.ok(!can(scoped, 'catalog.read'), 'catalog.read was not among its permissions');
    const teamOnly = { ...admin, scopes: { permissions: null, teams: [PAYMENTS] } };
    assert.ok(can(teamOnly, 'catalog.read'));
    assert.ok(!can(teamOnly, 'audit.read'), 'a team-scoped token has no platform-wide permission');
    // the user's rights still bound it
    const dev = caller([{ environmentTypes: ['development'] }], { scopes: { permissions: ['deploy'], teams: null } });
    assert.ok(!can(dev, 'deploy', { team: PAYMENTS, environmentType: 'production' }));
  });

  test('effective permissions name the teams and environment types', () => {
    const dev = caller([{ environmentTypes: ['development'] }, { role: 'viewer', team: '*' }]);
    const perms = Object.fromEntries(effectivePermissions(dev).map((p) => [p.permission, p]));
    assert.deepEqual(perms['deploy']!.where, [{ team: PAYMENTS, environmentTypes: ['development'] }]);
    assert.equal(perms['application.read']!.teams, '*');
    assert.equal(perms['audit.read'], undefined);
  });
});

test('refs', () => {
  assert.equal(teamRef('payments'), PAYMENTS);
  assert.equal(teamRef('group:default/payments'), PAYMENTS);
  assert.equal(teamRef('*'), '*');
  assert.equal(teamRef('user:kim'), undefined);
  assert.equal(subjectRef('user:kim'), 'user:default/kim');
  assert.equal(subjectRef('group:sre'), 'team:default/sre');
  assert.equal(subjectRef('kim'), undefined);
});
