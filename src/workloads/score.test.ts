import { SCORE_FIXTURES } from '../../test/support/fixtures.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { formatPath, parseScore, PATTERN_MESSAGES, SCORE_SCHEMA, validateScore, type ScoreError, type ScoreWorkload } from './score.ts';

// ---- the conformance material ----------------------------------------------------------------------

/**
 * Files under conformance/score that are not Score workloads, and why. SOURCE.md says "Every file here
 * is valid Score", and every YAML file there is indeed a workload: no score-compose/score-k8s overrides
 * files, provisioner files or compose files. Anything new that is not a Score file must be listed here.
 */
const NOT_SCORE: Readonly<Record<string, string>> = {
  'SOURCE.md': 'provenance notes (Markdown), not a workload',
  'score-v1b1.json': 'the Score JSON Schema itself, not a workload',
};

const allFiles = readdirSync(SCORE_FIXTURES, { recursive: true, withFileTypes: true })
  .filter((d) => d.isFile())
  .map((d) => join(d.parentPath, d.name).slice(SCORE_FIXTURES.length + 1))
  .sort();
const scoreFiles = allFiles.filter((f) => /\.ya?ml$/.test(f) && !(f in NOT_SCORE));

function readFixture(relative: string): string {
  return readFileSync(join(SCORE_FIXTURES, relative), 'utf8');
}

function accepted(relative: string): { workload: ScoreWorkload; warnings: string[] } {
  const result = parseScore(readFixture(relative), relative);
  assert.ok('workload' in result, `${relative} rejected: ${JSON.stringify('errors' in result ? result.errors : null, null, 2)}`);
  return result;
}

function errorsOf(text: string): ScoreError[] {
  const result = parseScore(text);
  assert.ok('errors' in result, 'expected the file to be rejected');
  return result.errors;
}

describe('Score conformance files', () => {
  test('every file is classified: a Score file or listed as not one, with a reason', () => {
    const unclassified = allFiles.filter((f) => !scoreFiles.includes(f) && !(f in NOT_SCORE));
    assert.deepEqual(unclassified, []);
    for (const listed of Object.keys(NOT_SCORE)) assert.ok(allFiles.includes(listed), `${listed} is listed but does not exist`);
  });

  test('the material: 26 Score files (2 spec samples, 8 features, 5 resource types, 11 onlineboutique services)', () => {
    assert.equal(scoreFiles.filter((f) => f.startsWith('samples/')).length, 2);
    assert.equal(scoreFiles.filter((f) => f.startsWith('examples/specification/')).length, 8);
    assert.equal(scoreFiles.filter((f) => f.startsWith('examples/resources/')).length, 5);
    assert.equal(scoreFiles.filter((f) => f.startsWith('examples/samples/onlineboutique/')).length, 11);
    assert.equal(scoreFiles.length, 26);
  });

  for (const file of scoreFiles) {
    test(`accepts ${file}`, () => {
      const { workload } = accepted(file);
      assert.equal(workload.apiVersion, 'score.dev/v1b1');
      assert.ok(Object.keys(workload.containers).length >= 1);
      // The decoded document validates the same way without the text.
      assert.ok('workload' in validateScore(parseYaml(readFixture(file))));
    });
  }

  test('the shipped schema is the official one of the conformance material', () => {
    assert.deepEqual(SCORE_SCHEMA, JSON.parse(readFixture('score-v1b1.json')));
  });

  test('score-full.yaml: every field is read', () => {
    const { workload, warnings } = accepted('samples/score-full.yaml');
    assert.deepEqual(warnings, []);
    assert.equal(workload.metadata.name, 'example-workload-name123');
    assert.equal(workload.metadata['extra-key'], 'extra-value');
    assert.deepEqual(workload.metadata.annotations, { 'prefix.com/Another-Key_Annotation.2': 'something else' });
    assert.deepEqual(workload.service?.ports, { 'port-one': { port: 1000, protocol: 'TCP', targetPort: 10000 }, 'port-two2': { port: 8000 } });
    const c = workload.containers['container-one1'];
    assert.ok(c);
    assert.equal(c.image, 'localhost:4000/repo/my-image:tag');
    assert.deepEqual(c.command, ['/bin/sh', '-c']);
    assert.deepEqual(c.args, ['hello', 'world']);
    assert.deepEqual(c.variables, { SOME_VAR: 'some content here' });
    assert.deepEqual(c.resources, { requests: { cpu: '1000m', memory: '10Gi' }, limits: { cpu: '0.24', memory: '128M' } });
    assert.deepEqual(c.files, {
      '/my/file': { mode: '0600', source: 'file.txt' },
      '/my/other/file': { content: 'some multiline\ncontent\n' },
      '/my/other/binaryfile': { binaryContent: 'ADBgwpA=' },
    });
    assert.deepEqual(c.volumes, {
      '/mnt/something': { source: 'volume-name', path: '/sub/path', readOnly: false },
      '/mnt/something-else': { source: 'volume-two' },
    });
    assert.deepEqual(c.livenessProbe, { httpGet: { port: 8080, path: '/livez' }, exec: { command: ['/bin/curl', '-f', 'http://localhost:8080/livez'] } });
    assert.deepEqual(c.readinessProbe?.httpGet?.httpHeaders, [{ name: 'SOME_HEADER', value: 'some-value-here' }]);
    assert.deepEqual(workload.containers['container-two2'], { image: '.' });
    assert.deepEqual(workload.resources?.['resource-three'], { type: 'Type-Three', id: 'shared-type-three' });
    assert.deepEqual(workload.resources?.['resource-one1']?.params, { extra: { data: 'here' } });
  });

  test('the deprecated array forms of files and volumes become maps keyed by target, with warnings', () => {
    const { workload, warnings } = accepted('samples/score-deprecated-files-and-volumes.yaml');
    assert.deepEqual(workload.containers.main?.files, { '/mnt/some-path': { content: 'my content here' } });
    assert.deepEqual(workload.containers.main?.volumes, { '/mnt/vol': { source: 'some-volume' } });
    assert.deepEqual(warnings, [
      'containers.main.files: the array form is deprecated; converted to a map keyed by target path',
      'containers.main.volumes: the array form is deprecated; converted to a map keyed by target path',
    ]);
  });

  test('JSON is read too', () => {
    const { workload } = accepted('examples/specification/service/score.yaml');
    const result = parseScore(JSON.stringify(workload, null, 2));
    assert.ok('workload' in result);
    assert.deepEqual(result.workload, workload);
  });
});

// ---- broken variants --------------------------------------------------------------------------------

const VALID = `apiVersion: score.dev/v1b1
metadata:
  name: web-app
containers:
  web:
    image: nginx:1.27
`;

describe('rejected Score files: exact path and line', () => {
  test('the base variant is valid', () => {
    assert.ok('workload' in parseScore(VALID));
  });

  test('missing containers', () => {
    assert.deepEqual(errorsOf('apiVersion: score.dev/v1b1\nmetadata:\n  name: web-app\n'), [{ path: 'containers', message: 'is required', line: 1 }]);
  });

  test('wrong apiVersion', () => {
    assert.deepEqual(errorsOf(VALID.replace('score.dev/v1b1', 'score.dev/v1b2')), [
      { path: 'apiVersion', message: 'must be "score.dev/v1b1" (got "score.dev/v1b2")', line: 1 },
    ]);
  });

  test('missing apiVersion and metadata.name', () => {
    assert.deepEqual(errorsOf('metadata:\n  labels: {}\ncontainers:\n  web:\n    image: nginx\n'), [
      { path: 'apiVersion', message: 'is required', line: 1 },
      { path: 'metadata.name', message: 'is required', line: 1 },
    ]);
  });

  test('image of the wrong type', () => {
    assert.deepEqual(errorsOf(VALID.replace('image: nginx:1.27', 'image: 42')), [{ path: 'containers.web.image', message: 'must be string', line: 6 }]);
    assert.deepEqual(errorsOf(VALID.replace('image: nginx:1.27', 'image: [nginx]')), [
      { path: 'containers.web.image', message: 'must be string', line: 6 },
    ]);
  });

  test('unknown top-level field (the schema forbids additional properties)', () => {
    assert.deepEqual(errorsOf(`${VALID}kind: Workload\n`), [{ path: 'kind', message: 'is not allowed (unknown field)', line: 7 }]);
  });

  test('unknown container field, with the line of its key', () => {
    assert.deepEqual(errorsOf(`${VALID}    ports:\n      - 80\n`), [{ path: 'containers.web.ports', message: 'is not allowed (unknown field)', line: 7 }]);
  });

  test('metadata may have extra fields (additionalProperties: true)', () => {
    assert.ok('workload' in parseScore(VALID.replace('  name: web-app', '  name: web-app\n  team: core')));
  });

  test('no containers at all', () => {
    assert.deepEqual(errorsOf('apiVersion: score.dev/v1b1\nmetadata:\n  name: web-app\ncontainers: {}\n'), [
      { path: 'containers', message: 'must have at least 1 entry', line: 4 },
    ]);
  });

  test('invalid names of containers, with the line of the name', () => {
    assert.deepEqual(errorsOf(VALID.replace('  web:', '  Web_1:')), [
      { path: 'containers.Web_1', message: "invalid name: must be an RFC 1123 label of 2 to 63 characters: a-z, 0-9 and '-', not starting or ending with '-'", line: 5 },
    ]);
  });

  test('a workload name too short and not a label: one message', () => {
    const label = "must be an RFC 1123 label of 2 to 63 characters: a-z, 0-9 and '-', not starting or ending with '-'";
    assert.deepEqual(errorsOf(VALID.replace('name: web-app', 'name: W')), [{ path: 'metadata.name', message: label, line: 3 }]);
    assert.deepEqual(errorsOf(VALID.replace('name: web-app', 'name: w')), [{ path: 'metadata.name', message: label, line: 3 }]);
    assert.deepEqual(errorsOf(VALID.replace('  web:', '  x:')), [{ path: 'containers.x', message: `invalid name: ${label}`, line: 5 }]);
  });

  test('files: exactly one of content, binaryContent, source; no target in the map form', () => {
    const text = `${VALID}    files:
      /etc/none.conf:
        mode: "0600"
      /etc/two.conf:
        content: x
        source: two.conf
      /etc/target.conf:
        target: /etc/target.conf
        content: x
      /etc/mode.conf:
        mode: "999"
        content: x
`;
    assert.deepEqual(errorsOf(text), [
      { path: 'containers.web.files["/etc/none.conf"]', message: "must have exactly one of 'content', 'binaryContent', 'source'", line: 8 },
      { path: 'containers.web.files["/etc/two.conf"]', message: "must have only one of 'content', 'source'", line: 10 },
      {
        path: 'containers.web.files["/etc/target.conf"].target',
        message: 'is only allowed in the deprecated array form; in the map form the key is the target path',
        line: 14,
      },
      { path: 'containers.web.files["/etc/mode.conf"].mode', message: 'must be an octal file mode such as 0600', line: 17 },
    ]);
  });

  test('files that are neither an array nor a map', () => {
    assert.deepEqual(errorsOf(`${VALID}    files: /etc/app.conf\n`), [{ path: 'containers.web.files', message: 'must be array or object', line: 7 }]);
  });

  test('the deprecated array form needs unique targets', () => {
    const text = `${VALID}    volumes:
      - source: data
      - target: /data
        source: data
      - target: /data
        source: other
`;
    assert.deepEqual(errorsOf(text), [
      { path: 'containers.web.volumes[0].target', message: 'is required in the deprecated array form of volumes', line: 8 },
      { path: 'containers.web.volumes[2].target', message: 'duplicates the target "/data"', line: 11 },
    ]);
  });

  test('a probe needs httpGet or exec; httpGet needs port and path', () => {
    const text = `${VALID}    livenessProbe: {}
    readinessProbe:
      httpGet:
        port: 8080
`;
    assert.deepEqual(errorsOf(text), [
      { path: 'containers.web.livenessProbe', message: "must have at least one of 'httpGet', 'exec'", line: 7 },
      { path: 'containers.web.readinessProbe.httpGet.path', message: 'is required', line: 9 },
    ]);
  });

  test('service ports, compute resources and variables', () => {
    const text = `${VALID}    variables:
      A=B: x
      PORT: 8080
    resources:
      limits:
        cpu: lots
        memory: 1.5Gi
service:
  ports:
    http:
      port: 70000
      protocol: SCTP
`;
    assert.deepEqual(errorsOf(text), [
      { path: 'containers.web.variables["A=B"]', message: "invalid name: must not contain '='", line: 8 },
      { path: 'containers.web.variables.PORT', message: 'must be string', line: 9 },
      { path: 'containers.web.resources.limits.cpu', message: 'must be a CPU quantity such as 2, 0.5 or 125m', line: 12 },
      { path: 'service.ports.http.port', message: 'must be <= 65535', line: 17 },
      { path: 'service.ports.http.protocol', message: 'must be one of "TCP", "UDP"', line: 18 },
    ]);
  });

  test('resources: type is required; id and class are checked', () => {
    const text = `${VALID}resources:
  db:
    class: large
  cache:
    type: redis
    id: Shared_Cache
  queue:
    type: amqp
    class: -x
`;
    assert.deepEqual(errorsOf(text), [
      { path: 'resources.db.type', message: 'is required', line: 8 },
      { path: 'resources.cache.id', message: "must be one or more labels of a-z, 0-9 and '-' separated by '.'", line: 12 },
      { path: 'resources.queue.class', message: "must be 2 to 63 letters, digits and '-', not starting or ending with '-'", line: 15 },
    ]);
  });

  test('every error is reported, in line order', () => {
    const text = `apiVersion: v1
kind: Workload
metadata:
  name: web-app
containers:
  web:
    image: 1
`;
    assert.deepEqual(
      errorsOf(text).map((e) => [e.path, e.line]),
      [
        ['apiVersion', 1],
        ['kind', 2],
        ['containers.web.image', 7],
      ],
    );
  });

  test('a value through an alias is reported at the key that uses it', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: web-app
  port: &p 8080
containers:
  web:
    image: *p
`;
    assert.deepEqual(errorsOf(text), [{ path: 'containers.web.image', message: 'must be string', line: 7 }]);
  });

  test('JSON errors carry lines', () => {
    const text = JSON.stringify({ apiVersion: 'score.dev/v1b1', metadata: { name: 'web-app' }, containers: { web: { image: false } } }, null, 2);
    assert.deepEqual(errorsOf(text), [{ path: 'containers.web.image', message: 'must be string', line: 8 }]);
  });

  test('YAML syntax errors and duplicate keys, with lines', () => {
    // The unclosed flow map of line 2 is noticed where the next key starts.
    assert.deepEqual(errorsOf('apiVersion: score.dev/v1b1\nmetadata: {name: web-app\ncontainers: {}\n'), [
      { path: '', message: 'invalid YAML: Flow map in block collection must be sufficiently indented and end with a }', line: 3 },
    ]);

    const duplicate = errorsOf(`${VALID}    image: nginx:1.28\n`);
    assert.equal(duplicate.length, 1);
    assert.equal(duplicate[0]?.line, 7);
    assert.match(duplicate[0]?.message ?? '', /^invalid YAML: Map keys must be unique/);
  });

  test('not a map; several documents', () => {
    assert.deepEqual(errorsOf(''), [{ path: '', message: 'must be object' }]);
    assert.deepEqual(errorsOf('- a\n- b\n'), [{ path: '', message: 'must be object', line: 1 }]);
    assert.match(errorsOf(`${VALID}---\n${VALID}`)[0]?.message ?? '', /^invalid YAML: .*multiple documents/);
  });

  test('the location is on every error', () => {
    const result = parseScore(VALID.replace('image: nginx:1.27', 'image: 42'), 'apps/web/score.yaml');
    assert.deepEqual(result, { errors: [{ path: 'containers.web.image', message: 'must be string', line: 6, location: 'apps/web/score.yaml' }] });
  });

  test('validateScore: the same errors without lines', () => {
    assert.deepEqual(validateScore({ apiVersion: 'score.dev/v1b1', metadata: { name: 'web-app' }, containers: { web: { image: 42 } } }), {
      errors: [{ path: 'containers.web.image', message: 'must be string' }],
    });
    assert.deepEqual(validateScore(null), { errors: [{ path: '', message: 'must be object' }] });
    assert.deepEqual(validateScore({ apiVersion: 'score.dev/v1b1', metadata: { name: 'web-app' }, containers: { web: { image: 'x', command: ['a', 1] } } }), {
      errors: [{ path: 'containers.web.command[1]', message: 'must be string' }],
    });
  });
});

describe('helpers', () => {
  test('formatPath', () => {
    assert.equal(formatPath([]), '');
    assert.equal(formatPath(['containers', 'my-web', 'image']), 'containers.my-web.image');
    assert.equal(formatPath(['containers', 'web', 'command', 1]), 'containers.web.command[1]');
    assert.equal(formatPath(['containers', 'web', 'files', '/etc/app.conf', 'content']), 'containers.web.files["/etc/app.conf"].content');
    assert.equal(formatPath(['metadata', 'annotations', 'example.com/team']), 'metadata.annotations["example.com/team"]');
  });

  test('every pattern of the schema has a plain-words message (apiVersion has its own)', () => {
    const patterns = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'pattern' && typeof v === 'string') patterns.add(v);
          else collect(v);
        }
      }
    };
    collect(SCORE_SCHEMA);
    patterns.delete('^score\\.dev/v1b1$');
    assert.deepEqual([...patterns].filter((p) => !(p in PATTERN_MESSAGES)), []);
  });
});
