// Parse YAML text against a zod schema, so that every problem names file, line, column and field.
// Pure: takes text, returns data or throws InputError. Reading files is the caller's job (see load.ts).
import { isAlias, isCollection, isNode, isPair, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, type InputIssue } from '../errors.ts';

/** Formats a zod/YAML path as `hosts[2].address`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** How much a YAML input may ask of the parser: anything beyond is bad input (exit 2), never a crash. */
export interface YamlLimits {
  /** Bytes of text (UTF-8). */
  maxBytes: number;
  /** Collections inside collections. */
  maxDepth: number;
  /** Alias dereferences while building the data (an alias bomb needs thousands). */
  maxAliases: number;
}

/** Limits for the files people write (inventory, spec, lock, playbook, matrix); the bundle manifest raises maxBytes. */
export const INPUT_LIMITS: YamlLimits = { maxBytes: 4 << 20, maxDepth: 64, maxAliases: 100 };

/** A problem found at a path of the document, after the schema (cross-field rules, the matrix, the file system). */
export interface PathIssue {
  path: readonly PropertyKey[];
  message: string;
}

/** A parsed document: the plain data (before the schema) and a way to name a path's line and column. */
export interface ParsedYaml {
  raw: unknown;
  issueAt: (issue: PathIssue) => InputIssue;
}

function positionOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]) {
  // Walk down as far as the document goes; an issue on a missing key points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = counter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

/** The first node nested deeper than `max`, or the first alias when there are more than `maxAliases`; iterative. */
function tooMuch(doc: Document, limits: YamlLimits): { offset: number; message: string } | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  let aliases = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isAlias(node) && ++aliases > limits.maxAliases)
      return { offset: node.range?.[0] ?? 0, message: `more than ${limits.maxAliases} aliases (*name): refused, as an alias bomb would be` };
    if (!isCollection(node)) continue;
    if (depth >= limits.maxDepth) return { offset: node.range?.[0] ?? 0, message: `nested deeper than ${limits.maxDepth} levels` };
    for (const item of node.items) {
      if (isPair(item)) stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Parses YAML `text` (named `file` in messages) within `limits`; throws InputError for syntax errors and for input
 * beyond the limits (size, nesting, aliases), so a hostile file is bad input naming the file, never an internal error.
 */
export function parseYamlText(text: string, file: string, limits: YamlLimits = INPUT_LIMITS): ParsedYaml {
  const bytes = Buffer.byteLength(text);
  if (bytes > limits.maxBytes) throw new InputError([{ file, message: `${bytes} bytes: larger than the ${limits.maxBytes} an input file may be` }]);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = counter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map((e) => {
        const first = e.message.split('\n')[0] ?? e.message;
        return { ...at(e.pos[0]), message: /call stack/i.test(first) ? 'nested too deeply to parse' : first };
      }),
    );
  }
  const over = tooMuch(doc, limits);
  if (over) throw new InputError([{ ...at(over.offset), message: over.message }]);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: limits.maxAliases });
  } catch (error) {
    // yaml counts each alias's expanded size against maxAliasCount: a few nested aliases can still exceed it.
    if (error instanceof ReferenceError || error instanceof RangeError)
      throw new InputError([{ file, message: `refused: ${error instanceof RangeError ? 'nested too deeply' : 'aliases expand too much (an alias bomb)'}` }]);
    throw error;
  }
  return {
    raw,
    issueAt: (issue) => ({ file, ...positionOf(doc, counter, issue.path), field: formatPath(issue.path) || undefined, message: issue.message }),
  };
}

/** Validates parsed data with `schema`; returns the data, or the issues with their positions. */
export function checkSchema<S extends z.ZodType>(parsed: ParsedYaml, schema: S): { data?: z.output<S>; issues: InputIssue[] } {
  const result = schema.safeParse(parsed.raw);
  if (result.success) return { data: result.data, issues: [] };
  return { issues: result.error.issues.map((issue) => parsed.issueAt({ path: issue.path, message: issue.message })) };
}

/** Parse YAML `text` (named `file` in messages) and validate it with `schema`. */
export function parseYaml<S extends z.ZodType>(text: string, file: string, schema: S, limits: YamlLimits = INPUT_LIMITS): z.output<S> {
  const { data, issues } = checkSchema(parseYamlText(text, file, limits), schema);
  if (issues.length > 0) throw new InputError(issues);
  return data as z.output<S>;
}
