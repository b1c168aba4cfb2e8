// Process entry without top-level await, shared by bin/ferry.js (ESM) and the single executable (bundled as CommonJS).
import { processIo } from './io.ts';
import { run } from './program.ts';

/** Run ferry on this process's argv and set its exit code. */
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), {
    io: processIo(),
    now: () => new Date(),
    cwd: process.cwd(),
    env: process.env,
  });
}
