// The command tree as shell completion needs it (commands, subcommands, flags, which values are paths), read
// from the commander program itself so completion can never drift from the real flags.
import type { Command } from 'commander';

export type PathKind = 'file' | 'dir';

export interface CompletionOption {
  /** Every spelling, e.g. ['-i', '--inventory']. */
  names: string[];
  takesValue: boolean;
  /** Set when the value is a path: complete files (or directories). */
  path?: PathKind;
}

export interface CompletionNode {
  /** Words from the program to this command, e.g. ['bundle', 'build']; [] for the program. */
  path: string[];
  subcommands: string[];
  options: CompletionOption[];
  /** Set when positional arguments are paths. */
  argumentPath?: PathKind;
}

const DIR_WORDS = /^(dir|directory)$/i;
const FILE_WORDS = /^(file|path|manifest|source|delta|chunks?|iso|keyfile)$/i;

/** Whether a placeholder like `<file>` or `<dir>` names a path, and which kind. */
export function pathKindOf(placeholder: string | undefined): PathKind | undefined {
  if (!placeholder) return undefined;
  const word = placeholder.replace(/^[<[]|[>\]]$/g, '').replace(/\.\.\.$/, '');
  if (DIR_WORDS.test(word)) return 'dir';
  if (FILE_WORDS.test(word)) return 'file';
  return undefined;
}

/** The completion tree of a commander program, depth first (the program itself first). */
export function completionTree(program: Command): CompletionNode[] {
  const out: CompletionNode[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const options: CompletionOption[] = cmd.options.map((o) => {
      const placeholder = /[<[][^>\]]+[>\]]/.exec(o.flags)?.[0];
      const kind = pathKindOf(placeholder);
      return { names: [o.short, o.long].filter((n): n is string => typeof n === 'string'), takesValue: o.required || o.optional, ...(kind ? { path: kind } : {}) };
    });
    options.push({ names: ['-h', '--help'], takesValue: false });
    const argKinds = cmd.registeredArguments.map((a) => pathKindOf(a.name()));
    const argumentPath = argKinds.find((k) => k !== undefined);
    out.push({ path, subcommands: cmd.commands.map((c) => c.name()), options, ...(argumentPath ? { argumentPath } : {}) });
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return out;
}
