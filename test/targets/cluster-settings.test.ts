/**
 * A cluster's settings (team profile environments.<type>.cluster) becoming credentials: platform
 * secrets read by name, a kubeconfig parsed, the in-cluster service account; and every problem naming
 * the setting at fault, as the API's invalid-cluster-settings problems do.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSettings, clusterAccess, rolloutTimeoutMs, type Reveal } from '../../src/targets/cluster.ts';
import { TargetSettingsError } from '../../src/targets/target.ts';

const AT = 'profile.environments.production.cluster';
const secrets = (values: Record<string, string>): Reveal => async (names) => {
  const missing = names.filter((n) => !(n in values));
  if (missing.length) throw new Error(`platform secret ${missing.join(', ')} is not set`);
  return new Map(names.map((n) => [n, values[n]!]));
};
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: prod
clusters: [{ name: c, cluster: { server: "https://10.1.2.3:6443", certificate-authority-data: ${Buffer.from(CA).toString('base64')} } }]
users: [{ name: u, user: { token: from-kubeconfig } }, { name: sso, user: { exec: { command: aws } } }]
contexts: [{ name: prod, context: { cluster: c, user: u, namespace: shop } }, { name: sso, context: { cluster: c, user: sso } }]
`;

async function problem(p: Promise<unknown>): Promise<TargetSettingsError> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof TargetSettingsError, `expected a TargetSettingsError, got ${String(err)}`);
  return err;
}

describe('cluster settings → credentials', () => {
  test('server with a token and a CA from platform secrets', async () => {
    const a = await clusterAccess({ name: 'eu', server: 'https://10.0.0.1:6443/', token: { secretRef: 'eu-token' }, ca: { secretRef: 'eu-ca' } }, secrets({ 'eu-token': 't0k', 'eu-ca': CA }), AT);
    assert.deepEqual(a, { server: 'https://10.0.0.1:6443', token: 't0k', ca: CA, insecureSkipTlsVerify: undefined });
    const inline = await clusterAccess({ name: 'eu', server: 'https://10.0.0.1:6443', ca: CA }, secrets({}), AT);
    assert.equal(inline.ca, CA, 'a CA may be written inline');
  });

  test('a kubeconfig from a platform secret, with its context', async () => {
    const a = await clusterAccess({ name: 'eu', kubeconfig: { secretRef: 'kc' } }, secrets({ kc: KUBECONFIG }), AT);
    assert.equal(a.server, 'https://10.1.2.3:6443');
    assert.equal(a.token, 'from-kubeconfig');
    assert.equal(a.ca, CA);
    const sso = await problem(clusterAccess({ name: 'eu', kubeconfig: { secretRef: 'kc' }, context: 'sso' }, secrets({ kc: KUBECONFIG }), AT));
    assert.equal(sso.path, `${AT}.kubeconfig`);
    assert.match(sso.message, /exec or auth-provider plugin/);
    const garbage = await problem(clusterAccess({ name: 'eu', kubeconfig: { secretRef: 'kc' }, context: 'nope' }, secrets({ kc: KUBECONFIG }), AT));
    assert.match(garbage.message, /no context nope/);
  });

  test('every problem names its setting: a missing secret, no cluster outside one, a token over plain HTTP', async () => {
    const missing = await problem(clusterAccess({ name: 'eu', server: 'https://10.0.0.1:6443', token: { secretRef: 'nope' } }, secrets({}), AT));
    assert.equal(missing.path, `${AT}.token`);
    assert.match(missing.message, /platform secret nope is not set/);
    const outside = await problem(clusterAccess({ name: 'eu', inCluster: true }, secrets({}), AT, {}));
    assert.equal(outside.path, `${AT}.inCluster`);
    assert.match(outside.message, /not in a cluster: KUBERNETES_SERVICE_HOST is not set/);
    const plain = await problem(clusterAccess({ name: 'eu', server: 'http://10.0.0.1:8080', token: { secretRef: 't' } }, secrets({ t: 'x' }), AT));
    assert.equal(plain.path, `${AT}.server`);
    assert.match(plain.message, /plain HTTP: a bearer token is only sent over HTTPS/);
    const loopback = await clusterAccess({ name: 'eu', server: 'http://127.0.0.1:8080', token: { secretRef: 't' } }, secrets({ t: 'x' }), AT);
    assert.equal(loopback.token, 'x', 'this machine is fine');
  });

  test('whether settings can serve a runtime', () => {
    assert.equal(checkSettings('local', undefined, AT), null);
    assert.equal(checkSettings('kubernetes', undefined, AT)!.path, AT);
    assert.equal(checkSettings('kubernetes', { name: 'eu', domain: 'x.example.com' }, AT)!.path, `${AT}.server`);
    assert.equal(checkSettings('gitops', { name: 'eu', server: 'https://k' }, AT)!.path, `${AT}.gitops`);
    assert.equal(checkSettings('gitops', { name: 'eu', gitops: { remote: '/srv/deploy.git' } }, AT), null);
    assert.equal(rolloutTimeoutMs(undefined), 300_000);
    assert.equal(rolloutTimeoutMs({ name: 'eu', rolloutTimeout: '90s' }), 90_000);
    assert.equal(rolloutTimeoutMs({ name: 'eu', rolloutTimeout: '2m' }), 120_000);
  });
});
