// Read a YAML input file from disk and validate it: the file-system half of parse.ts.
import { access, constants, readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError, UserError } from '../errors.ts';
import { checkSchema, INPUT_LIMITS, parseYamlText, type PathIssue, type YamlLimits } from './parse.ts';

export interface LoadOptions<T> {
  limits?: YamlLimits;
  /**
   * Checks that need more than the text (the matrix, the files it names), run in the same pass as the schema so every
   * problem is reported at once. Gets the plain data (the schema may have refused it) and the validated data if not.
   */
  check?: (raw: unknown, data: T | undefined) => Promise<PathIssue[]>;
}

function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : String(code ?? error);
}

/** Load and validate one YAML file; a missing, unreadable or oversize file is a UserError naming it. */
export async function loadYamlFile<S extends z.ZodType>(path: string, schema: S, options: LoadOptions<z.output<S>> = {}): Promise<z.output<S>> {
  const limits = options.limits ?? INPUT_LIMITS;
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > limits.maxBytes) throw new InputError([{ file: path, message: `${size} bytes: larger than the ${limits.maxBytes} an input file may be` }]);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read ${path}: ${why(error)}`, { cause: error });
  }
  const parsed = parseYamlText(text, path, limits);
  const { data, issues } = checkSchema(parsed, schema);
  const more = options.check ? await options.check(parsed.raw, data) : [];
  const all = [...issues, ...more.map(parsed.issueAt)];
  if (all.length > 0) throw new InputError(all);
  return data as z.output<S>;
}

/** Why a file named by an input cannot be used (missing, a directory, unreadable), or undefined when it can. */
export async function unreadableFile(path: string): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) return 'not a regular file';
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return why(error);
  }
}

/** Why a directory named by an input or a flag cannot be used, or undefined when it can. */
export async function unusableDir(path: string): Promise<string | undefined> {
  try {
    return (await stat(path)).isDirectory() ? undefined : 'not a directory';
  } catch (error) {
    return why(error) === 'no such file' ? 'no such directory' : why(error);
  }
}
