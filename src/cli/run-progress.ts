// Shows an install run as it happens: listr2 tasks per phase and host on a terminal, plain lines otherwise,
// JSON lines with --json. Fed by the runner's events, so the runner knows nothing of terminals.
import { Listr, type ListrTask } from 'listr2';
import type { HostOutcome, RunEvent } from '../phases/runner.ts';
import type { Io } from './io.ts';

export interface RunProgress {
  onEvent(event: RunEvent): void;
  /** Call when the run is over (finished or failed): settles what never started and waits for the display. */
  finish(): Promise<void>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const outcomeWord: Record<HostOutcome, string> = { ran: 'done', 'already-done': 'already done', failed: 'FAILED', 'not-reached': 'not reached' };

/** One line per phase start and per host end; for logs and CI. */
export function lineProgress(io: Io): RunProgress {
  return {
    onEvent(e) {
      if (e.type === 'phase-start') io.stderr.write(`» ${e.phase}: ${e.title} (${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'})\n`);
      else if (e.type === 'phase-skipped') io.stderr.write(`» ${e.phase}: skipped (${e.reason})\n`);
      else if (e.type === 'host-end')
        io.stderr.write(`  ${e.host}: ${outcomeWord[e.outcome]} in ${seconds(e.durationMs)}${e.error ? `: ${e.error.message.split('\n')[0]}` : ''}\n`);
    },
    finish: async () => {},
  };
}

/** Every event as one JSON object per line on stdout, for scripts. */
export function jsonProgress(io: Io): RunProgress {
  return {
    onEvent(e) {
      const { error, ...rest } = e as RunEvent & { error?: Error };
      io.stdout.write(`${JSON.stringify(error ? { ...rest, error: error.message } : rest)}\n`);
    },
    finish: async () => {},
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type PhaseStart = { hosts: string[] } | { skipped: string };
type HostEnd = { outcome: HostOutcome; durationMs: number; error?: Error };

/** listr2 tasks: a task per phase, a subtask per host; phases that never started show why. */
export function listrProgress(phases: readonly { id: string; title: string }[], options: { renderer?: 'default' | 'simple' | 'test' } = {}): RunProgress {
  const starts = new Map(phases.map((p) => [p.id, deferred<PhaseStart>()]));
  const ends = new Map<string, Deferred<HostEnd>>();
  let over = false;
  const hostEnd = (phase: string, host: string) => {
    const key = `${phase}\0${host}`;
    if (!ends.has(key)) {
      ends.set(key, deferred());
      // The display may reach a host only after the run is over: it was never reached.
      if (over) ends.get(key)!.resolve({ outcome: 'not-reached', durationMs: 0 });
    }
    return ends.get(key)!;
  };
  const tasks: ListrTask[] = phases.map((p) => ({
    title: `${p.id}: ${p.title}`,
    task: async (_ctx, task) => {
      const start = await starts.get(p.id)!.promise;
      if ('skipped' in start) return task.skip(`${p.id}: skipped (${start.skipped})`);
      return task.newListr(
        start.hosts.map((host) => ({
          title: host,
          task: async (_c, sub) => {
            const end = await hostEnd(p.id, host).promise;
            sub.title = `${host}: ${outcomeWord[end.outcome]} in ${seconds(end.durationMs)}`;
            if (end.outcome === 'failed') throw end.error ?? new Error('failed');
            if (end.outcome === 'not-reached') sub.skip(`${host}: not reached`);
          },
        })),
        { concurrent: true, exitOnError: false },
      );
    },
  }));
  const list = new Listr(tasks, { exitOnError: false, renderer: options.renderer ?? 'default', fallbackRenderer: 'simple', rendererOptions: { collapseSubtasks: false } });
  const running = list.run().catch(() => undefined);
  return {
    onEvent(e) {
      if (e.type === 'phase-start') starts.get(e.phase)?.resolve({ hosts: e.hosts });
      else if (e.type === 'phase-skipped') starts.get(e.phase)?.resolve({ skipped: e.reason });
      else if (e.type === 'host-end') hostEnd(e.phase, e.host).resolve({ outcome: e.outcome, durationMs: e.durationMs, error: e.error });
    },
    async finish() {
      over = true;
      for (const d of starts.values()) d.resolve({ skipped: 'not run: an earlier phase failed' });
      for (const d of ends.values()) d.resolve({ outcome: 'not-reached', durationMs: 0 });
      await running;
    },
  };
}
