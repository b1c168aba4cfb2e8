// Schema of playbooks/*.yaml: an ordered list of phase ids with parameters. The code of a phase lives in src/phases/<id>.ts.
import { z } from 'zod';

export const PlaybookStep = z.union([
  z.string().regex(/^[a-z][a-z0-9-]*$/, 'a phase id is lowercase words joined by -'),
  z
    .object({
      phase: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a phase id is lowercase words joined by -'),
      with: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
]);

export const Playbook = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('Playbook'),
    name: z.string(),
    description: z.string().optional(),
    phases: z.array(PlaybookStep).min(1),
  })
  .strict();
export type Playbook = z.infer<typeof Playbook>;

export interface PlaybookPhase {
  id: string;
  params: Record<string, unknown>;
}

/** The steps of a playbook as {id, params}, in order. */
export function playbookPhases(playbook: Playbook): PlaybookPhase[] {
  return playbook.phases.map((step) => (typeof step === 'string' ? { id: step, params: {} } : { id: step.phase, params: step.with }));
}
