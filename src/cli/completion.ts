// `ferry completion bash|zsh`: prints a completion script generated from the command tree of this very program.
import { UserError } from '../errors.ts';
import type { RegisterCommand } from './commands.ts';
import { completionTree } from './completion-model.ts';
import { renderBash, renderZsh } from './completion-render.ts';

/** Registers `ferry completion`. */
export const registerCompletion: RegisterCommand = (program, ctx) => {
  program
    .command('completion')
    .description('print a shell completion script: source <(ferry completion bash), or the same with zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UserError(`completion: unknown shell "${shell}"`, { hint: 'ferry completion bash, or ferry completion zsh' });
      const tree = completionTree(program);
      ctx.io.stdout.write(shell === 'bash' ? renderBash(tree) : renderZsh(tree));
    });
};
