/**
 * The Kubernetes renderer against every Score file of the shared conformance set
 * (../shared/conformance/score): each one is rendered twice, before its resources are provisioned
 * (outputs shown as placeholders) and after (with outputs a provisioner would give), and every object
 * is validated against the Kubernetes schemas (kubernetes-models) and the API server's own rules.
 * What the renderer cannot express is listed here, with the reason, and nothing else may fail.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveForRender } from '../../src/targets/kubernetes/pending.ts';
import { LABELS, toYaml } from '../../src/targets/kubernetes/objects.ts';
import { renderKubernetes, type RenderInput } from '../../src/targets/kubernetes/render.ts';
import { validateObjects } from '../../src/targets/kubernetes/validate.ts';
import { placeholdersIn } from '../../src/workloads/placeholders.ts';
import { parseScore, type ScoreWorkload } from '../../src/workloads/score.ts';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { SCORE_FIXTURES } from '../support/fixtures.ts';

function scoreFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...scoreFiles(p));
    else if (/\.ya?ml$/.test(f)) out.push(p);
  }
  return out.sort();
}

/** What Kubernetes cannot express, per file (relative path), as patterns of the errors expected. */
const CANNOT_EXPRESS: Record<string, RegExp[]> = {
  // the spec's sample asks for more than its limits (requests cpu 1000m > limit 0.24, memory 10Gi > 128M): the API server refuses that
  'samples/score-full.yaml': [/requests\.cpu 1000m is above its limit 0\.24/, /requests\.memory 10Gi is above its limit 128M/],
};

/** Outputs as a provisioner would give them (host, port, name, username, password, …); password and username are secret. */
function provisioned(w: ScoreWorkload): { outputs: Record<string, Record<string, unknown>>; secrets: Record<string, string[]> } {
  const outputs: Record<string, Record<string, unknown>> = {};
  const secrets: Record<string, string[]> = {};
  const visit = (s: string) => {
    for (const p of placeholdersIn(s)) {
      const [root, name, ...keys] = p.parts;
      if (root !== 'resources' || !name || !keys.length) continue;
      const key = keys.join('.');
      const type = w.resources?.[name]?.type ?? 'x';
      (outputs[name] ??= {})[key] = key === 'host' ? (type === 'dns' ? `${name}.apps.example.com` : `${name}.shared.svc`) : key === 'port' ? '5432' : key === 'name' ? name : `${key}-of-${name}`;
      if (key === 'password' || key === 'username') (secrets[name] ??= []).push(key);
    }
  };
  const all = (v: unknown): void => {
    if (typeof v === 'string') visit(v);
    else if (Array.isArray(v)) v.forEach(all);
    else if (v && typeof v === 'object') Object.values(v).forEach(all);
  };
  all(w.containers);
  all(w.resources);
  return { outputs, secrets };
}

const files = scoreFiles(SCORE_FIXTURES);
const rel = (f: string) => path.relative(SCORE_FIXTURES, f);

function input(file: string, w: ScoreWorkload, r: ReturnType<typeof resolveForRender>, extra: Partial<RenderInput> = {}): RenderInput {
  return {
    application: { namespace: 'default', name: w.metadata.name }, environment: { name: 'production', type: 'production' },
    deployment: { id: '6f1c2a4e-0000-4000-8000-000000000001', number: 7 },
    workload: r.workload, secretVariables: r.secretVariables, secretFiles: r.secretFiles, secretArgs: r.secretArgs,
    image: 'registry.example.com/shop@sha256:' + 'a'.repeat(64),
    profile: { replicas: 2, cpu: '500m', memory: '256Mi', healthPath: '/healthz' },
    released: true, route: { domain: 'apps.example.com' },
    readSource: (s) => {
      const p = path.join(path.dirname(file), s);
      return existsSync(p) ? readFileSync(p) : undefined;
    },
    ...extra,
  };
}

describe('Kubernetes rendering of every conformance Score file', () => {
  test('the conformance set is there', () => {
    assert.ok(files.length >= 25, `found ${files.length} Score files in ${SCORE_FIXTURES}`);
  });

  const summary: string[] = [];
  for (const file of files) {
    test(rel(file), (t) => {
      const parsed = parseScore(readFileSync(file, 'utf8'), file);
      assert.ok('workload' in parsed, `${rel(file)} is valid Score`);
      const w = parsed.workload;
      const expected = CANNOT_EXPRESS[rel(file)] ?? [];

      // 1. before provisioning: placeholders, never an unexpected error
      const pending = resolveForRender(w);
      const before = renderKubernetes(input(file, w, pending));
      // 2. provisioned: real-looking outputs
      const { outputs, secrets } = provisioned(w);
      const done = resolveForRender(w, outputs, secrets);
      assert.deepEqual(done.pending, [], 'every output is known once provisioned');
      const after = renderKubernetes(input(file, w, done));

      for (const out of [before, after]) {
        const unexpected = out.errors.filter((e) => !expected.some((re) => re.test(e)));
        assert.deepEqual(unexpected, [], `${rel(file)}: unexpected errors`);
        for (const re of expected) assert.ok(out.errors.some((e) => re.test(e)), `${rel(file)}: expected an error matching ${re}`);
        // every object carries the labels that tie it to the application, environment and deployment
        for (const { object: o } of out.objects) {
          for (const l of [LABELS.application, LABELS.environment, LABELS.managedBy, LABELS.name]) assert.ok(o.metadata.labels?.[l], `${o.kind} ${o.metadata.name} has ${l}`);
          if (o.kind !== 'Namespace') assert.equal(o.metadata.labels?.[LABELS.deployment], '6f1c2a4e-0000-4000-8000-000000000001');
        }
        const kinds = out.objects.map((o) => o.object.kind);
        assert.equal(kinds.filter((k) => k === 'Deployment' || k === 'StatefulSet').length, 1, 'one Deployment (or StatefulSet)');
        assert.equal(kinds.includes('Service'), Object.keys(w.service?.ports ?? {}).length > 0, 'a Service exactly when the workload has ports');
        assert.equal(kinds.includes('HTTPRoute'), Object.keys(w.service?.ports ?? {}).length > 0, 'a route for the released environment when there is a service');
        // a secret value is never a plain env value of the Deployment
        const pod = (out.objects.find((o) => o.object.kind === 'Deployment')!.object.spec as { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } }).template.spec;
        for (const c of pod.containers) {
          for (const e of c.env ?? []) {
            if (e.value === undefined) continue;
            assert.ok(!/password/i.test(e.value) && !/\$\{resources\./.test(e.value), `${c.name}.${e.name} is plain but holds ${e.value}`);
          }
        }
        // the YAML is what was validated: parsed back, the objects are the same and still valid
        const yaml = toYaml(out.objects.map((o) => o.object));
        const back = parseAllDocuments(yaml).map((d) => d.toJS() as Record<string, unknown>);
        assert.deepEqual(back, JSON.parse(JSON.stringify(out.objects.map((o) => o.object))));
        assert.deepEqual(validateObjects(back as never).filter((e) => !expected.some((re) => re.test(e))), []);
      }
      // resolved placeholders: what is left are images and file sources that are not there
      for (const p of after.placeholders) assert.match(p, /source .* was not available/, `${rel(file)}: ${p}`);
      if (pending.pending.length) assert.ok(before.placeholders.length > 0, 'unprovisioned outputs are listed as placeholders');
      const objects = after.objects.length;
      const status = expected.length ? 'cannot express' : after.placeholders.length ? 'renders, with placeholders' : 'renders and validates';
      summary.push(`${rel(file).padEnd(52)} ${String(objects).padStart(2)} objects  ${status}`);
      t.diagnostic(`${status}: ${after.objects.map((o) => o.object.kind).join(', ')}${after.warnings.length ? `; warnings: ${after.warnings.join(' | ')}` : ''}${after.placeholders.length ? `; placeholders: ${after.placeholders.join(' | ')}` : ''}`);
    });
  }

  test('summary', (t) => {
    for (const line of summary) t.diagnostic(line);
    assert.equal(summary.length, files.length);
  });

  test('a secret output reaches containers only through a Secret, and the rest as plain values', () => {
    const file = files.find((f) => rel(f) === 'examples/resources/postgres/score.yaml')!;
    const w = (parseScore(readFileSync(file, 'utf8')) as { workload: ScoreWorkload }).workload;
    const { outputs, secrets } = provisioned(w);
    const out = renderKubernetes(input(file, w, resolveForRender(w, outputs, secrets)));
    const secret = out.objects.find((o) => o.object.kind === 'Secret')!.object as unknown as { metadata: { name: string }; data: Record<string, string> };
    assert.deepEqual(Object.keys(secret.data).sort(), ['POSTGRES_PASSWORD', 'POSTGRES_USERNAME']);
    assert.equal(Buffer.from(secret.data.POSTGRES_PASSWORD!, 'base64').toString(), 'password-of-my-postgres');
    const yaml = toYaml(out.objects.filter((o) => o.object.kind === 'Deployment').map((o) => o.object));
    assert.ok(!yaml.includes('password-of-my-postgres'));
    const env = (parseYaml(yaml) as { spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    assert.deepEqual(env.find((e) => e.name === 'POSTGRES_PASSWORD'), { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'POSTGRES_PASSWORD' } } });
    assert.deepEqual(env.find((e) => e.name === 'POSTGRES_HOST'), { name: 'POSTGRES_HOST', value: 'my-postgres.shared.svc' });
  });
});
