// Test support: run ferry in-process with a memory Io and a fixed clock; returns exit code and what it printed.
import { memoryIo } from '../../../src/cli/io.ts';
import { run } from '../../../src/cli/program.ts';

export async function runFerry(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err() };
}
