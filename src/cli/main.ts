// Process entry: wires the real terminal, clock and environment into run(), then exits with its code.
import { processIo } from './io.ts';
import { run } from './program.ts';

const code = await run(process.argv.slice(2), {
  io: processIo(),
  now: () => new Date(),
  cwd: process.cwd(),
  env: process.env,
});
process.exitCode = code;
