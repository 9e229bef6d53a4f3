import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CRITERION_WEIGHTS, criterionScore, describeCriterion, matchDefinition, type MatchableDefinition, type MatchContext } from './match.ts';
import type { Criterion } from './schema.ts';

const def = (name: string, type: string, ...criteria: Criterion[]): MatchableDefinition => ({ metadata: { name }, spec: { type, criteria } });

const definitions: MatchableDefinition[] = [
  def('pg-any', 'postgres'),
  def('pg-prod', 'postgres', { environmentType: 'production' }),
  def('pg-prod-large', 'postgres', { environmentType: 'production', class: 'large' }),
  def('pg-payments', 'postgres', { team: 'payments' }),
  def('pg-env-staging-eu', 'postgres', { environment: 'staging-eu' }),
  def('pg-shop', 'postgres', { application: 'shop' }, { application: 'cart', environmentType: 'staging' }),
  def('pg-shared-main', 'postgres', { id: 'main-db' }),
  def('pg-large', 'postgres', { class: 'large' }),
  def('redis-dev', 'redis', { environmentType: 'development' }),
  // a tie at the same specificity: the alphabetically first name wins
  def('mq-b', 'amqp', { environmentType: 'staging' }),
  def('mq-a', 'amqp', { environmentType: 'staging' }),
  def('mq-any-2', 'amqp', {}),
];

const base: MatchContext = {
  type: 'postgres',
  class: 'default',
  id: 'db',
  environmentType: 'development',
  environment: 'dev',
  application: 'blog',
  team: 'content',
};

describe('matchDefinition', () => {
  const cases: { name: string; ctx: Partial<MatchContext>; want: string; score: number }[] = [
    { name: 'no criteria match anything', ctx: {}, want: 'pg-any', score: 0 },
    { name: 'environment type', ctx: { environmentType: 'production', environment: 'prod' }, want: 'pg-prod', score: 2 },
    { name: 'environment type + class beats environment type', ctx: { environmentType: 'production', class: 'large' }, want: 'pg-prod-large', score: 3 },
    { name: 'class alone', ctx: { class: 'large' }, want: 'pg-large', score: 1 },
    { name: 'team beats environment type and class together', ctx: { team: 'payments', environmentType: 'production', class: 'large' }, want: 'pg-payments', score: 4 },
    { name: 'environment beats team', ctx: { team: 'payments', environment: 'staging-eu', environmentType: 'staging' }, want: 'pg-env-staging-eu', score: 8 },
    { name: 'application beats environment', ctx: { application: 'shop', environment: 'staging-eu' }, want: 'pg-shop', score: 16 },
    { name: 'second criterion of a definition', ctx: { application: 'cart', environmentType: 'staging' }, want: 'pg-shop', score: 18 },
    { name: 'a criterion matches only when all its fields do', ctx: { application: 'cart', environmentType: 'production' }, want: 'pg-prod', score: 2 },
    { name: 'id beats everything', ctx: { id: 'main-db', application: 'shop', environment: 'staging-eu', team: 'payments' }, want: 'pg-shared-main', score: 32 },
    { name: 'shared resource (no application, no team)', ctx: { id: 'main-db', application: null, team: null }, want: 'pg-shared-main', score: 32 },
    { name: 'other types are ignored', ctx: { type: 'redis' }, want: 'redis-dev', score: 2 },
    { name: 'ties are broken by name', ctx: { type: 'amqp', environmentType: 'staging' }, want: 'mq-a', score: 2 },
    { name: '[{}] matches anything', ctx: { type: 'amqp' }, want: 'mq-any-2', score: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = matchDefinition(definitions, { ...base, ...c.ctx });
      assert.ok('definition' in r, 'error' in r ? r.error : '');
      assert.equal(r.definition.metadata.name, c.want);
      assert.equal(r.score, c.score);
    });
  }

  test('returns the criterion that matched', () => {
    const r = matchDefinition(definitions, { ...base, application: 'cart', environmentType: 'staging' });
    assert.ok('criterion' in r);
    assert.deepEqual(r.criterion, { application: 'cart', environmentType: 'staging' });
    const any = matchDefinition(definitions, base);
    assert.ok('criterion' in any);
    assert.deepEqual(any.criterion, {});
  });

  test('the order of definitions does not matter', () => {
    const reversed = [...definitions].reverse();
    for (const ctx of [base, { ...base, type: 'amqp', environmentType: 'staging' }, { ...base, class: 'large', environmentType: 'production' }]) {
      const a = matchDefinition(definitions, ctx);
      const b = matchDefinition(reversed, ctx);
      assert.ok('definition' in a && 'definition' in b);
      assert.equal(a.definition, b.definition);
    }
  });

  test('no match names the type, class and context', () => {
    const r = matchDefinition(definitions, { ...base, type: 'redis', class: 'large', environmentType: 'production', environment: 'production', application: 'shop', team: 'payments' });
    assert.ok('error' in r);
    assert.equal(
      r.error,
      'no resource definition matches type redis, class large in environment production (type production) of application shop (team payments); definitions of type redis: redis-dev (environmentType=development)',
    );
    const none = matchDefinition(definitions, { ...base, type: 'kafka', application: null, team: null, id: 'events' });
    assert.ok('error' in none);
    assert.equal(none.error, 'no resource definition matches type kafka, class default in environment dev (type development) for shared resource events; there is no definition of type kafka');
  });

  test('weights: one more specific field outweighs all less specific ones', () => {
    const w = Object.values(CRITERION_WEIGHTS);
    for (let i = 0; i < w.length; i++) assert.ok((w[i] as number) > w.slice(i + 1).reduce((a, b) => a + b, 0));
    assert.equal(criterionScore({ team: 'x' }, base), null);
    assert.equal(criterionScore({ application: 'blog', environmentType: 'development' }, base), 18);
    assert.equal(describeCriterion({}), 'any');
    assert.equal(describeCriterion({ class: 'large', environmentType: 'production' }), 'environmentType=production, class=large');
  });
});
