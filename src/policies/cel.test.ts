import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindings, compileExpression, compileMessage, fromCel, renderMessage, toCel, type Bindings, type CompileScope } from './cel.ts';

/** The policy language: CEL, checked when it loads, evaluated over plain data. */

const scope: CompileScope = { events: ['application.create'], params: { max: 20, sizes: { development: ['small'] } } };
const errorsOf = (source: string, s: CompileScope = scope) => {
  const r = compileExpression(source, s);
  return r.ok ? [] : r.errors;
};
const run = (source: string, b: Bindings, s: CompileScope = scope) => {
  const r = compileExpression(source, s);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return fromCel(r.expr.run(b));
};

describe('compiling', () => {
  test('syntax errors say where, with the line in multi-line expressions', () => {
    assert.deepEqual(errorsOf('team.applications >='), ['column 19: syntax error: found > but expecting end of input']);
    assert.deepEqual(errorsOf('true &&\n  1 +'), ['line 2, column 5: syntax error: found + but expecting end of input']);
  });

  test('unknown names, functions and fields are errors, with the column', () => {
    assert.deepEqual(errorsOf('requst.application.team == "a"'), ['column 1: unknown name "requst": a policy reads request, team, now and params']);
    assert.deepEqual(errorsOf('now.getHour() > 1'), ['column 4: unknown function getHour(): did you mean getHours()?']);
    assert.match(errorsOf('frobnicate(1)')[0]!, /^column 1: unknown function frobnicate\(\) \(functions: bool, bytes, .*getHours, .*upperAscii; operators and the macros has, all, exists, exists_one, map, filter\)$/);
    assert.deepEqual(errorsOf('request.aplication.team == ""'), ['column 8: request.aplication does not exist (request has event, actor, application, environment, environments, addons)']);
    assert.deepEqual(errorsOf('request.application.tem == ""'), ['column 20: request.application.tem does not exist (request.application has name, namespace, ref, owner, team, template, templateVersion, inputs)']);
    assert.deepEqual(errorsOf('team.apps > 1'), ['column 5: team.apps does not exist (team has name, applications, resources)']);
    assert.deepEqual(errorsOf('params.min > 1'), ['column 7: params.min is not set in spec.params (set: max, sizes)']);
    assert.match(errorsOf('now.hour > 1')[0]!, /now is a timestamp: use its functions/);
  });

  test('a request field must exist on every event the policy listens to, unless has() guards it', () => {
    const two: CompileScope = { events: ['release', 'deployment.create'], params: {} };
    assert.deepEqual(errorsOf('request.release.kind == "rollback"', two), ['column 8: request.release is not part of a deployment.create request (only of release): test it with has(request.release) or write one policy per event']);
    assert.deepEqual(errorsOf('has(request.release) && request.release.kind == "rollback"', two), []);
    assert.deepEqual(errorsOf('request.environment.type == "production"', two), []);
  });

  test('what is inside open maps (inputs, params, resources) is not checked; comprehension variables are known', () => {
    assert.deepEqual(errorsOf('request.application.inputs.anything.deeper == 1 && params.sizes.development.exists(s, s == "x")'), []);
    assert.deepEqual(errorsOf('request.addons.exists(a, a.inputs.size == "large")'), []);
    assert.deepEqual(errorsOf('"size" in request.application.inputs && int(team.applications) >= params.max'), []);
  });

  test('it records what it reads', () => {
    const r = compileExpression('team.applications >= params.max && request.application.inputs.size == "x" && now.getHours("UTC") > 1', scope);
    assert.ok(r.ok);
    assert.deepEqual(r.expr.refs, ['now', 'params.max', 'request.application.inputs', 'team.applications']);
  });
});

describe('evaluating', () => {
  const b = (request: unknown, team: unknown = {}, now = new Date('2026-11-23T09:30:00Z'), params: unknown = scope.params) => ({ ...bindings({ request, team, now, params: {} }), params: toCel(params) });

  test('numbers are ints, so that arithmetic with literals works; maps, lists and "in"', () => {
    const v = b({ application: { team: 'a', inputs: { size: 'large', port: 8080 } }, environment: { type: 'development' }, actor: { roles: ['admin'] } }, { applications: 20, resources: { postgres: 3 } });
    assert.equal(run('team.applications + 1 > params.max', v), true);
    assert.equal(run('request.application.inputs.port - 80', v), 8000);
    assert.equal(run('request.application.inputs.size in params.sizes[request.environment.type]', v), false);
    assert.equal(run('"admin" in request.actor.roles', v), true);
    assert.equal(run('team.resources.postgres', v), 3);
  });

  test('now is a timestamp, in any time zone', () => {
    const v = b({}, {}, new Date('2026-11-22T23:30:00Z')); // a Sunday in UTC, a Monday in Paris
    assert.equal(run('now.getDayOfWeek("UTC")', v), 0);
    assert.equal(run('now.getDayOfWeek("Europe/Paris")', v), 1);
    assert.equal(run('now.getHours("Europe/Paris")', v), 0);
  });

  test('a missing map key is an evaluation error, not a crash', () => {
    const r = compileExpression('request.application.inputs.nope == 1', scope);
    assert.ok(r.ok);
    const out = r.expr.run(b({ application: { inputs: {} } }));
    assert.ok(out instanceof Error);
    assert.match(out.message, /nope/);
  });
});

describe('messages', () => {
  test('${…} parts are CEL; $$ is a dollar; lists read as lists', () => {
    const m = compileMessage('team ${team.name} has ${team.applications} (max ${params.max}); sizes ${params.sizes.development}; costs $$5 at ${now}', scope);
    assert.ok(m.ok);
    const v = { ...bindings({ request: {}, team: { name: 'payments', applications: 20 }, now: new Date('2026-11-23T09:30:00Z'), params: {} }), params: toCel(scope.params) };
    assert.equal(renderMessage(m.parts, v), 'team payments has 20 (max 20); sizes small; costs $5 at 2026-11-23T09:30:00.000Z');
  });

  test('their expressions are checked too', () => {
    const m = compileMessage('team ${team.nme} and ${', scope);
    assert.ok(!m.ok);
    assert.deepEqual(m.errors, ['${team.nme}: column 5: team.nme does not exist (team has name, applications, resources)', '"${" at character 22 is not closed by "}" (write $$ for a literal $)']);
  });
});
