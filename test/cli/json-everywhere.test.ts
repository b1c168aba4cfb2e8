// Every command that reports takes --json: walk the real command tree, and fail for any command with an action
// and no --json that is not an exception named here with its reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { memoryIo } from '../../src/cli/io.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { runFerry } from './support/run-ferry.ts';

/** Commands without --json, and why they need none. */
const EXCEPTIONS: Record<string, string> = {
  completion: 'prints a shell script for the shell to source, not a report',
};

function leaves(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ path: path.join(' '), cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

const program = buildProgram({ io: memoryIo(), now: () => new Date(), cwd: process.cwd(), env: {}, setExitCode: () => undefined });
const all = leaves(program);

describe('--json on every command that reports', () => {
  it('walks a tree that has the commands of every area', () => {
    expect(all.map((l) => l.path)).toEqual(expect.arrayContaining(['resolve', 'matrix list', 'bundle build', 'bundle verify', 'key generate', 'doctor', 'install', 'reset', 'registry deploy', 'demo', 'completion']));
  });

  for (const { path, cmd } of all)
    it(`${path} ${EXCEPTIONS[path] ? 'is an exception' : 'takes --json'}`, () => {
      const hasJson = cmd.options.some((o) => o.long === '--json');
      if (EXCEPTIONS[path]) expect(hasJson, `${path} now has --json: drop it from EXCEPTIONS`).toBe(false);
      else expect(hasJson, `${path} reports but has no --json`).toBe(true);
    });
});

/** Every non-empty line of `text` parsed as JSON (throws on a line that is not). */
const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('--json output is JSON lines', () => {
  it('resolve, matrix list|show|check, key generate|fingerprint and doctor --local print one JSON object per line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-json-'));
    try {
      const cases: [string[], (o: Record<string, unknown>) => void][] = [
        [['resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--json'], (o) => expect(o).toMatchObject({ ok: true, stack: { kubernetes: expect.stringMatching(/^1\.33\./) } })],
        [['matrix', 'list', '--json'], (o) => expect((o.known as Record<string, string[]>).os).toContain('rocky-9.4')],
        [['matrix', 'show', 'gpus', '--json'], (o) => expect(o).toMatchObject({ family: 'gpus', entries: expect.arrayContaining([expect.any(Object)]) })],
        [['matrix', 'check', '--json'], (o) => expect(o).toMatchObject({ ok: true, files: expect.any(Number) })],
        [['key', 'generate', '--out', join(dir, 'k'), '--json'], (o) => expect(o.fingerprint).toMatch(/^SHA256:/)],
        [['key', 'fingerprint', join(dir, 'k', 'ferry.pub'), '--json'], (o) => expect(o.fingerprint).toMatch(/^SHA256:/)],
        [['doctor', '--local', '--json'], (o) => expect(o).toMatchObject({ reportVersion: 1, findings: expect.any(Array) })],
      ];
      for (const [argv, check] of cases) {
        const r = await runFerry(...argv);
        expect([0, 4], `${argv.join(' ')}: ${r.err}`).toContain(r.code);
        const lines = jsonLines(r.out);
        expect(lines, argv.join(' ')).toHaveLength(1);
        check(lines[0]!);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
