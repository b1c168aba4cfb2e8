// `ferry demo`: resolve, bundle, verify, and on lab nodes doctor and install, on a built-in default (src/demo/);
// `--down` takes down lab nodes an earlier `ferry demo --keep` left up.
import { resolve } from 'node:path';
import { ExitCode } from '../errors.ts';
import { runDemo } from '../demo/run-demo.ts';
import { teardownLabSync, keptLabsSync } from '../lab/teardown.ts';
import type { RegisterCommand } from './commands.ts';

interface DemoFlags {
  json?: boolean;
  keep?: boolean;
  down?: boolean;
  workDir?: string;
}

/** Registers `ferry demo`. */
export const registerDemo: RegisterCommand = (program, ctx) => {
  program
    .command('demo')
    .description('the whole job on a built-in example: resolve, bundle, verify, then doctor and install on 3 local lab nodes (root, systemd-nspawn)')
    .option('--keep', 'leave the lab nodes up and print how to reach them')
    .option('--down', 'take down the lab nodes an earlier --keep left up, then exit')
    .option('--work-dir <dir>', 'where the lock, spec, bundle and state go (default: a new temporary directory, removed unless --keep)')
    .option('--json', 'steps and the summary as JSON lines on stdout')
    .action(async (flags: DemoFlags) => {
      if (flags.down) {
        const kept = keptLabsSync();
        for (const state of kept) teardownLabSync(state);
        ctx.io.stdout.write(flags.json ? `${JSON.stringify({ type: 'down', labs: kept.map((k) => k.prefix) })}\n` : `took down ${kept.length} kept lab(s)${kept.length ? `: ${kept.map((k) => k.prefix).join(', ')}` : ''}\n`);
        return;
      }
      // The program module imports this one (through the command list): load it when the demo runs.
      const { run } = await import('./program.ts');
      const summary = await runDemo({
        json: flags.json === true, keep: flags.keep === true, ...(flags.workDir ? { workDir: resolve(ctx.cwd, flags.workDir) } : {}),
        ferry: (argv, io) => run(argv, { io, now: ctx.now, cwd: ctx.cwd, env: ctx.env }),
        io: ctx.io, now: ctx.now, env: ctx.env,
      });
      if (!summary.ok) ctx.setExitCode(ExitCode.phaseFailed);
    });
};
