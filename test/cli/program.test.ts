import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';

export async function ferry(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date('2026-11-23T00:00:00Z'), cwd: process.cwd(), env: {} });
  return { code, out: io.out(), err: io.err() };
}

describe('ferry program', () => {
  it('prints help and exits 0', async () => {
    const r = await ferry('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: ferry/);
  });

  it('exits 2 on an unknown command or flag, without a stack trace', async () => {
    for (const argv of [['frobnicate'], ['--no-such-flag']]) {
      const r = await ferry(...argv);
      expect(r.code).toBe(2);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
