// The list of commands, in the order `ferry --help` shows them. Each file registers one command group.
import type { Command } from 'commander';
import type { CommandContext } from './program.ts';
import { registerDoctor } from './doctor.ts';

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export const commands: RegisterCommand[] = [registerDoctor];
