// `ferry matrix refresh`: read the matrix's machine-readable primary sources, print what changed (new patches, new
// lines, ends of life, runc CVE fixes, disagreements, pages a person must read); `--write` applies what is safe.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { parseDocument, type Document } from 'yaml';
import { ExitCode, HostUnreachableError, UserError } from '../errors.ts';
import { renderTable } from '../matrix/explain.ts';
import { DEFAULT_MATRIX_DIR } from '../matrix/load.ts';
import { applyChanges, FAMILY_FILE } from '../refresh/apply.ts';
import { diffMatrix, type RefreshChange } from '../refresh/diff.ts';
import { readSources } from '../refresh/read.ts';
import { SOURCES } from '../refresh/sources.ts';
import { dayOf } from '../matrix/version.ts';
import { openMatrix } from './open-matrix.ts';
import type { CommandContext } from './program.ts';

interface RefreshOptions {
  matrix?: string;
  source: string[];
  sourceBase?: string;
  mirror: string[];
  write?: boolean;
  json?: boolean;
  timeout: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Registers `ferry matrix refresh` under `ferry matrix`. */
export function registerMatrixRefresh(matrix: Command, ctx: CommandContext): void {
  matrix
    .command('refresh')
    .description("read the matrix's primary sources (release tags and data files, NVIDIA's index, distribution data) and print what changed; --write applies it")
    .option('--matrix <dir>', "matrix directory (default: the repo's matrices/)")
    .option('--source <id>', `read only this source; repeatable (${SOURCES.map((s) => s.id).join(', ')})`, collect, [] as string[])
    .option('--source-base <url>', 'fetch https://HOST/PATH as URL/HOST/PATH (a local mirror of every source)')
    .option('--mirror <from=to>', 'fetch URLs starting with FROM from TO instead; repeatable', collect, [] as string[])
    .option('--write', 'apply the changes that need no human reading to matrices/*.yaml, with sources and dates')
    .option('--timeout <seconds>', 'per request', '30')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: RefreshOptions) => {
      const unknown = opts.source.filter((id) => !SOURCES.some((s) => s.id === id));
      if (unknown.length > 0) throw new UserError(`unknown source ${unknown.join(', ')} (known: ${SOURCES.map((s) => s.id).join(', ')})`);
      const mirrors = opts.mirror.map((m): [string, string] => {
        const i = m.indexOf('=');
        if (i <= 0) throw new UserError(`malformed --mirror "${m}": expected FROM=TO, e.g. https://github.com/=http://mirror.local/github/`);
        return [m.slice(0, i), m.slice(i + 1)];
      });
      const timeout = Number(opts.timeout);
      if (!(timeout > 0)) throw new UserError(`--timeout must be a positive number of seconds, not "${opts.timeout}"`);
      const dir = opts.matrix ? resolvePath(ctx.cwd, opts.matrix) : DEFAULT_MATRIX_DIR;
      const { matrix } = await openMatrix(ctx, opts.matrix);
      const sources = opts.source.length > 0 ? SOURCES.filter((s) => opts.source.includes(s.id)) : SOURCES;
      const { observations, failures } = await readSources(sources, { base: opts.sourceBase, mirrors, timeoutMs: timeout * 1000 });
      const changes = diffMatrix(matrix, observations);
      const today = dayOf(ctx.now());
      let applied: RefreshChange[] = [];
      const written: string[] = [];
      if (opts.write && changes.some((c) => c.writable)) {
        const docs = new Map<string, Document>();
        for (const file of new Set(Object.values(FAMILY_FILE))) docs.set(file, parseDocument(await readFile(join(dir, file), 'utf8')));
        applied = applyChanges(docs, changes, today);
        for (const file of new Set(applied.map((c) => FAMILY_FILE[c.family]!))) {
          await writeFile(join(dir, file), docs.get(file)!.toString({ lineWidth: 0, flowCollectionPadding: false }));
          written.push(file);
        }
        await openMatrix(ctx, opts.matrix); // what was written must still pass `ferry matrix check`
      }
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ sources: sources.map((s) => s.id), changes, applied: applied.length, written, unreachable: failures })}\n`);
      else ctx.io.stdout.write(report(sources.length, changes, applied, written, failures, !!opts.write));
      if (failures.length > 0 && !opts.json) throw new HostUnreachableError('matrix refresh', `${failures.length} of ${sources.length} sources could not be read: ${failures.map((f) => `${f.source} (${f.url}: ${f.error})`).join('; ')}`, { hint: 'check the network or the --mirror/--source-base mapping; the diff above covers the sources that were read' });
      if (failures.length > 0) ctx.setExitCode(ExitCode.hostUnreachable);
    });
}

function report(read: number, changes: RefreshChange[], applied: RefreshChange[], written: string[], failures: unknown[], write: boolean): string {
  if (changes.length === 0)
    return failures.length === 0 ? `matrix up to date with its sources (${read} read)\n` : `no changes from the ${read - failures.length} of ${read} sources read\n`;
  const rows = [['KIND', 'SUBJECT', 'FROM', 'TO', 'WRITE', 'SOURCE']];
  for (const c of changes) rows.push([c.kind, c.subject, c.from ?? '-', c.to ?? '-', c.writable ? (applied.includes(c) ? 'written' : 'yes') : 'read', c.source]);
  const lines = [renderTable(rows), '', ...changes.map((c) => `  - ${c.message}`), ''];
  const writable = changes.filter((c) => c.writable).length;
  if (write) lines.push(`applied ${applied.length} change(s) to ${written.join(', ') || 'no file'}; the others need a person to read the source named`);
  else lines.push(`${changes.length} change(s), ${writable} applicable with --write; the others need a person to read the source named`);
  return `${lines.join('\n')}\n`;
}
