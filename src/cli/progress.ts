// Shows long steps: listr2 on a terminal, one plain line per step otherwise, nothing with --quiet or --json
// (where stdout carries only the final JSON document). Progress always goes to stderr.
import { Listr, ProcessOutput, type ListrTask } from 'listr2';
import type { ProgressEvent } from '../bundle/artifact.ts';
import { runSteps, type BuildStep } from '../bundle/build.ts';
import type { Io } from './io.ts';

export type ProgressMode = 'tty' | 'plain' | 'silent';

/** Picks how to show progress from the flags and whether stderr is a terminal. */
export function progressMode(flags: { quiet?: boolean; json?: boolean }, io: Io): ProgressMode {
  if (flags.quiet || flags.json) return 'silent';
  return io.stderr.isTTY ? 'tty' : 'plain';
}

function toListr(steps: readonly BuildStep[]): ListrTask[] {
  return steps.map((step) => ({
    title: step.title,
    task: async (_ctx, task) => {
      if (step.parallel) return task.newListr(toListr(step.parallel), { concurrent: true, exitOnError: true });
      const detail = await step.run!((e: ProgressEvent) => {
        if (e.type === 'advance') task.output = `${e.task}: ${e.done}${e.total ? `/${e.total}` : ''}`;
        else if (e.type === 'finish' && e.detail) task.output = `${e.task}: ${e.detail}`;
      });
      if (detail) task.title = `${step.title}: ${detail}`;
    },
  }));
}

/** Runs build steps, showing progress the chosen way. */
export async function runWithProgress(steps: readonly BuildStep[], io: Io, mode: ProgressMode): Promise<void> {
  if (mode === 'tty') {
    const out = io.stderr as NodeJS.WriteStream;
    await new Listr(toListr(steps), { exitOnError: true, rendererOptions: { collapseSubtasks: false }, processOutput: new ProcessOutput(out, out) } as never).run();
    return;
  }
  await runSteps(steps, (e) => {
    if (mode !== 'plain') return;
    // Sources' own start/advance events are too chatty for logs; steps' start and finish are one line each.
    if (e.type === 'finish' && steps.some((s) => s.title === e.task || s.parallel?.some((p) => p.title === e.task)))
      io.stderr.write(`[bundle] ${e.task}${e.detail ? `: ${e.detail}` : ''}\n`);
  });
}
