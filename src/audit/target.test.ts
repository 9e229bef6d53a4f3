import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditTarget, auditTargetOfUrl } from './target.ts';

test('applications, teams and users are named by ref, then the rest of the path', () => {
  assert.equal(auditTarget('/api/v1/applications/shop/environments/production/deployments', 'default'), 'application:default/shop/environments/production/deployments');
  assert.equal(auditTarget('/api/v1/applications/shop/environments/production/deployments'), 'application:default/shop/environments/production/deployments');
  assert.equal(auditTarget('/api/v1/applications/Shop', 'payments'), 'application:payments/shop');
  assert.equal(auditTarget('/api/v1/teams/web'), 'team:default/web');
  assert.equal(auditTarget('/api/v1/users/dana/tokens'), 'user:default/dana/tokens');
  assert.equal(auditTarget('/api/v1/entities/component/default/billing'), 'component:default/billing');
});

test('anything else is the path, without the query', () => {
  assert.equal(auditTarget('/api/v1/teams'), '/api/v1/teams');
  assert.equal(auditTarget('/api/v1/platform/secrets/db-url?x=1'), '/api/v1/platform/secrets/db-url');
  assert.equal(auditTarget('/api/v1/runs/1234/cancel'), '/api/v1/runs/1234/cancel');
  assert.equal(auditTarget('/api/v1/tokens/'), '/api/v1/tokens');
});

test('a Location names what a creation made', () => {
  assert.equal(auditTargetOfUrl('/api/v1/teams/web?namespace=default'), 'team:default/web');
  assert.equal(auditTargetOfUrl('/api/v1/applications/shop?namespace=payments'), 'application:payments/shop');
});

test('targets are bounded', () => {
  assert.ok(auditTarget(`/api/v1/${'x'.repeat(5000)}`).length <= 1001);
});
