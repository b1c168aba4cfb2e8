// The list of commands, in the order `ferry --help` shows them. Each file registers one command group.
import type { Command } from 'commander';
import { registerBundleCommands } from './bundle.ts';
import { registerCerts } from './certs.ts';
import { registerCompletion } from './completion.ts';
import { registerDemo } from './demo.ts';
import { registerDoctor } from './doctor.ts';
import { registerEtcd } from './etcd.ts';
import { registerInstall } from './install.ts';
import { registerKeyCommands } from './key.ts';
import { registerMatrix } from './matrix.ts';
import type { CommandContext } from './program.ts';
import { registerRegistryCommands } from './registry.ts';
import { registerResolve } from './resolve.ts';

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export const commands: RegisterCommand[] = [registerResolve, registerMatrix, registerBundleCommands, registerKeyCommands, registerDoctor, registerInstall, registerCerts, registerEtcd, registerRegistryCommands, registerDemo, registerCompletion];
