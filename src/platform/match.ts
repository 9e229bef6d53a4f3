import type { Criterion } from './schema.ts';

/**
 * Choosing the resource definition for a resource, as Humanitec does: among the definitions of the
 * resource's type, a criterion matches when every field it sets equals the resource's context; the most
 * specific matching criterion wins. Specificity is the sum of the weights of the fields a criterion sets,
 * so one more specific field outweighs all less specific ones together:
 *
 *   id 32 > application 16 > environment 8 > team 4 > environmentType 2 > class 1
 *
 * A definition with no criteria (or `[{}]`) matches everything with specificity 0. Ties are broken by
 * definition name, then by the criterion's position, so the choice is deterministic.
 */

export const CRITERION_WEIGHTS = { id: 32, application: 16, environment: 8, team: 4, environmentType: 2, class: 1 } as const;
type CriterionField = keyof typeof CRITERION_WEIGHTS;
const FIELDS = Object.keys(CRITERION_WEIGHTS) as CriterionField[];

export interface MatchContext {
  type: string;
  /** `default` when the resource names none. */
  class: string;
  /** The resource's id in the workload, or the shared resource id. */
  id: string;
  environmentType: string;
  environment: string;
  /** null for a shared resource. */
  application: string | null;
  team: string | null;
}

/** What matching needs of a definition; a loaded ResourceDefinition fits, so does a stored row. */
export interface MatchableDefinition {
  metadata: { name: string };
  spec: { type: string; criteria?: readonly Criterion[] };
}

export type MatchResult<D extends MatchableDefinition> = { definition: D; criterion: Criterion; score: number } | { error: string };

/** Specificity of a criterion, or null when it does not match the context. */
export function criterionScore(criterion: Criterion, ctx: MatchContext): number | null {
  let score = 0;
  for (const field of FIELDS) {
    const want = criterion[field];
    if (want === undefined) continue;
    if (ctx[field] !== want) return null;
    score += CRITERION_WEIGHTS[field];
  }
  return score;
}

export function matchDefinition<D extends MatchableDefinition>(definitions: readonly D[], ctx: MatchContext): MatchResult<D> {
  let best: { definition: D; criterion: Criterion; score: number; index: number } | null = null;
  const ofType = definitions.filter((d) => d.spec.type === ctx.type);
  for (const definition of ofType) {
    const criteria: readonly Criterion[] = definition.spec.criteria?.length ? definition.spec.criteria : [{}];
    for (const [index, criterion] of criteria.entries()) {
      const score = criterionScore(criterion, ctx);
      if (score === null) continue;
      const name = definition.metadata.name;
      if (!best || score > best.score || (score === best.score && (name < best.definition.metadata.name || (name === best.definition.metadata.name && index < best.index)))) {
        best = { definition, criterion, score, index };
      }
    }
  }
  if (best) {
    const { definition, criterion, score } = best;
    return { definition, criterion, score };
  }
  return { error: noMatchMessage(ctx, ofType) };
}

function noMatchMessage(ctx: MatchContext, ofType: readonly MatchableDefinition[]): string {
  const owner = ctx.application === null ? `for shared resource ${ctx.id}` : `of application ${ctx.application}${ctx.team ? ` (team ${ctx.team})` : ''}`;
  const head = `no resource definition matches type ${ctx.type}, class ${ctx.class} in environment ${ctx.environment} (type ${ctx.environmentType}) ${owner}`;
  if (!ofType.length) return `${head}; there is no definition of type ${ctx.type}`;
  const shown = ofType
    .slice(0, 5)
    .map((d) => `${d.metadata.name} (${(d.spec.criteria ?? []).map(describeCriterion).join(' | ')})`)
    .join(', ');
  return `${head}; definitions of type ${ctx.type}: ${shown}${ofType.length > 5 ? `, and ${ofType.length - 5} more` : ''}`;
}

/** `environmentType=production, class=large`. */
export function describeCriterion(c: Criterion): string {
  const parts = FIELDS.filter((f) => c[f] !== undefined).map((f) => `${f}=${c[f]}`);
  return parts.length ? parts.join(', ') : 'any';
}
