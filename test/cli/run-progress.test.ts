import { describe, expect, it, vi } from 'vitest';
import { jsonProgress, lineProgress, listrProgress } from '../../src/cli/run-progress.ts';
import { memoryIo } from '../../src/cli/io.ts';
import type { RunEvent } from '../../src/phases/runner.ts';

// A failed run as the runner reports it: phase a ran on two hosts, phase b failed on w1, phase c never started.
const failedRun: RunEvent[] = [
  { type: 'phase-start', phase: 'a', title: 'prepare', hosts: ['cp1', 'w1'] },
  { type: 'host-end', phase: 'a', host: 'cp1', outcome: 'ran', durationMs: 1200 },
  { type: 'host-end', phase: 'a', host: 'w1', outcome: 'already-done', durationMs: 40 },
  { type: 'phase-end', phase: 'a', ok: true },
  { type: 'phase-start', phase: 'b', title: 'join', hosts: ['w1', 'w2'] },
  { type: 'host-end', phase: 'b', host: 'w1', outcome: 'failed', durationMs: 300, error: new Error('kubeadm join exited 1\nmore') },
  { type: 'phase-end', phase: 'b', ok: false },
];

describe('run progress', () => {
  it('prints a line per phase and per host, with the first line of an error', () => {
    const io = memoryIo();
    const p = lineProgress(io);
    failedRun.forEach((e) => p.onEvent(e));
    expect(io.err()).toBe(
      [
        '» a: prepare (2 hosts)',
        '  cp1: done in 1.2s',
        '  w1: already done in 0.0s',
        '» b: join (2 hosts)',
        '  w1: FAILED in 0.3s: kubeadm join exited 1',
        '',
      ].join('\n'),
    );
  });

  it('writes JSON lines with the error as its message', () => {
    const io = memoryIo();
    const p = jsonProgress(io);
    failedRun.forEach((e) => p.onEvent(e));
    const lines = io.out().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(failedRun.length);
    expect(lines[5]).toEqual({ type: 'host-end', phase: 'b', host: 'w1', outcome: 'failed', durationMs: 300, error: 'kubeadm join exited 1\nmore' });
  });

  it('settles the listr2 display when a run stops midway, so it never hangs', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const p = listrProgress(
        [
          { id: 'a', title: 'prepare' },
          { id: 'b', title: 'join' },
          { id: 'c', title: 'cni' },
        ],
        { renderer: 'test' },
      );
      failedRun.forEach((e) => p.onEvent(e));
      await expect(Promise.race([p.finish().then(() => 'settled'), new Promise((r) => setTimeout(() => r('hung'), 2000))])).resolves.toBe('settled');
      const shown = [...write.mock.calls, ...writeErr.mock.calls].map((c) => String(c[0])).join('');
      expect(shown).toContain('w1: FAILED');
      expect(shown).toContain('c: skipped (not run: an earlier phase failed)');
    } finally {
      write.mockRestore();
      writeErr.mockRestore();
    }
  });
});
