// Test support: run ferry in-process with a memory Io and a fixed clock; returns exit code and what it printed.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { memoryIo } from '../../../src/cli/io.ts';
import { run } from '../../../src/cli/program.ts';

export async function runFerry(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err() };
}

/** The Debian 12 lock fixture with its image list emptied, for builds that need no image source. */
export function lockWithoutImages(): string {
  const lock = parse(readFileSync(new URL('../../bundle/fixtures/lock-debian12-cpu.yaml', import.meta.url), 'utf8')) as { images: unknown[] };
  return stringify({ ...lock, images: [] });
}
