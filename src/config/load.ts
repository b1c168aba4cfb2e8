// Read a YAML input file from disk and validate it: the file-system half of parse.ts.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { parseYaml } from './parse.ts';

/** Load and validate one YAML file; a missing or unreadable file is a UserError naming it. */
export async function loadYamlFile<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new UserError(`cannot read ${path}: ${why}`, { cause: error });
  }
  return parseYaml(text, path, schema);
}
