// The demo's record of what it did (steps with times, phases run and skipped with reasons) and its rendering as a
// summary table, kept pure so the text and the JSON say the same thing.

export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface DemoStep {
  id: string;
  title: string;
  status: StepStatus;
  ms: number;
  /** One line: what came out, why it was skipped, or what failed. */
  detail: string;
}

export interface DemoSummary {
  type: 'summary';
  ok: boolean;
  totalMs: number;
  steps: DemoStep[];
  phases: { ran: string[]; skipped: { id: string; reason: string }[] };
  /** Set with --keep: how to reach the nodes and how to take them down. */
  kept?: { nodes: { name: string; address: string }[]; ssh: string; inventory: string; down: string };
}

/** The summary of a finished demo: ok when no step failed (skipped steps are fine: the machine did not allow them). */
export function summarize(steps: readonly DemoStep[], phases: DemoSummary['phases'], totalMs: number, kept?: DemoSummary['kept']): DemoSummary {
  return { type: 'summary', ok: steps.every((s) => s.status !== 'failed'), totalMs, steps: [...steps], phases, ...(kept ? { kept } : {}) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The summary as text for a person: one line per step, the phases, and how to reach kept nodes. */
export function renderSummary(s: DemoSummary): string {
  const width = Math.max(...s.steps.map((x) => x.title.length));
  const lines = ['', `ferry demo: ${s.ok ? 'everything it could do succeeded' : 'FAILED'} in ${seconds(s.totalMs)}`];
  for (const step of s.steps)
    lines.push(`  ${step.status === 'ok' ? 'ok  ' : step.status === 'skipped' ? 'skip' : 'FAIL'}  ${step.title.padEnd(width)}  ${step.status === 'skipped' ? '      ' : seconds(step.ms).padStart(6)}  ${step.detail}`);
  if (s.phases.ran.length > 0) lines.push(`install phases run on the lab nodes: ${s.phases.ran.join(', ')}`);
  for (const p of s.phases.skipped) lines.push(`install phase skipped: ${p.id}: ${p.reason}`);
  if (s.kept) {
    lines.push(`lab nodes kept up: ${s.kept.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}`);
    lines.push(`  reach one:  ${s.kept.ssh}`);
    lines.push(`  inventory:  ${s.kept.inventory}`);
    lines.push(`  take down:  ${s.kept.down}`);
  }
  return `${lines.join('\n')}\n`;
}
