import { z } from 'zod';
import type { CheckRequest, DriftReport, Driver, ProvisionRequest, ProvisionResult } from './driver.ts';

/**
 * `echo`: returns the outputs the definition names, for things that already exist (a managed
 * database, an external API). It creates nothing, so `check` is always in-sync and `delete` does
 * nothing. The `outputs` input is secret (stored encrypted): it usually holds credentials; which
 * outputs are masked in the API is `secretOutputs`.
 */
export const echoInputs = z
  .strictObject({
    outputs: z.record(z.string(), z.unknown()),
    secretOutputs: z.array(z.string()).optional(),
  })
  .refine((v) => (v.secretOutputs ?? []).every((k) => k in v.outputs), { message: 'every name in secretOutputs must be a key of outputs', path: ['secretOutputs'] });
export type EchoInputs = z.infer<typeof echoInputs>;

export const echoDriver: Driver<EchoInputs> = {
  id: 'echo',
  description: 'Returns the given outputs, overridden by the resource\'s params (for things that already exist, or need no provisioning)',
  inputs: echoInputs,
  secretInputs: ['outputs'],
  async provision(req: ProvisionRequest<EchoInputs>): Promise<ProvisionResult> {
    return { outputs: { ...req.inputs.outputs, ...req.params }, secretOutputs: [...(req.inputs.secretOutputs ?? [])], state: {} };
  },
  async check(_req: CheckRequest<EchoInputs>): Promise<DriftReport> {
    return { status: 'in-sync' };
  },
  async delete(): Promise<void> {},
};
