// Builds the commander program and runs it. The single place that turns errors into exit codes and messages.
import { Command, CommanderError } from 'commander';
import { ExitCode, FerryError, InputError, NoStackError } from '../errors.ts';
import type { Io } from './io.ts';
import { commands } from './commands.ts';

export interface CommandContext {
  io: Io;
  /** Injected clock: commands pass it to pure code instead of calling Date themselves. */
  now: () => Date;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** A command sets this when it finishes with a non-zero verdict that is not an error (e.g. doctor warnings). */
  setExitCode: (code: ExitCode) => void;
}

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('ferry')
    .description('Carry a GPU Kubernetes cluster across an air gap: resolve, bundle, doctor, install.')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  for (const register of commands) register(program, ctx);
  for (const sub of program.commands) sub.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Run ferry with `argv` (without node and script). Returns the exit code; never calls process.exit. */
export async function run(argv: readonly string[], ctx: Omit<CommandContext, 'setExitCode'>): Promise<number> {
  let verdict: number = ExitCode.ok;
  const full: CommandContext = { ...ctx, setExitCode: (code) => (verdict = code) };
  const program = buildProgram(full);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return verdict;
  } catch (error) {
    return report(error, ctx.io, ctx.env);
  }
}

function report(error: unknown, io: Io, env: CommandContext['env']): number {
  if (error instanceof CommanderError) {
    // help and version exit 0; commander has already printed usage errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help')
      return ExitCode.ok;
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  if (error instanceof FerryError) {
    // InputError and NoStackError print their own lists; others a single line.
    const head = error instanceof InputError ? 'invalid input:\n' : error instanceof NoStackError ? '' : '';
    io.stderr.write(`ferry: ${head}${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    if (env.FERRY_DEBUG && error.stack) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  io.stderr.write(`ferry: internal error: ${err.message}\n`);
  io.stderr.write(env.FERRY_DEBUG ? `${err.stack}\n` : 'hint: this is a bug in ferry; re-run with FERRY_DEBUG=1 for the stack trace and report it\n');
  return ExitCode.internal;
}
