// `ferry matrix list|show|check`: what the compatibility matrix knows, and whether its files are sound.
import { UserError } from '../errors.ts';
import { readSpan } from '../matrix/check.ts';
import { factCounts, FAMILIES, familyRows, type Family } from '../matrix/describe.ts';
import { renderTable } from '../matrix/explain.ts';
import type { RegisterCommand } from './commands.ts';
import { registerMatrixRefresh } from './matrix-refresh.ts';
import { openMatrix } from './open-matrix.ts';

const table = (rows: string[][]) => `${renderTable(rows)}\n`;

/** Registers `ferry matrix` and its subcommands. */
export const registerMatrix: RegisterCommand = (program, ctx) => {
  const matrix = program.command('matrix').description('what the compatibility matrix knows: list, show FAMILY, check, refresh');
  const dirOption = ['--matrix <dir>', "matrix directory (default: the repo's matrices/)"] as const;
  const jsonOption = ['--json', 'the same as one JSON line'] as const;

  matrix
    .command('list')
    .description('one line per component family: what versions the matrix knows')
    .option(...dirOption)
    .option(...jsonOption)
    .action(async (opts: { matrix?: string; json?: boolean }) => {
      const { catalog, digest } = await openMatrix(ctx, opts.matrix);
      const rows = [['FAMILY', 'KNOWN']];
      rows.push(['os', [...catalog.os.keys()].join(' ')]);
      rows.push(['kubernetes', catalog.kubernetes.map((k) => k.minor).reverse().join(' ')]);
      rows.push(['containerd', catalog.containerd.map((c) => c.branch).reverse().join(' ')]);
      rows.push(['cri-o', [...catalog.crio.keys()].join(' ')]);
      rows.push(['runc', catalog.runc.map((r) => r.branch).reverse().join(' ')]);
      rows.push(['nvidia', catalog.branches.map((b) => `R${b.branch}`).reverse().join(' ')]);
      rows.push(['gpus', [...catalog.gpus.keys()].join(' ')]);
      rows.push(['cni', catalog.matrix.cni.releases.map((c) => `${c.name}-${c.minor}`).join(' ')]);
      const { facts, verified } = factCounts(catalog);
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ known: Object.fromEntries(rows.slice(1).map(([f, v]) => [f, v!.split(' ')])), facts, verified, digest })}\n`);
      else ctx.io.stdout.write(`${table(rows)}\n${facts} facts, ${verified} verified; digest ${digest}\n`);
    });

  matrix
    .command('show')
    .description(`the entries of one family (${FAMILIES.join(', ')})`)
    .argument('<family>', FAMILIES.join(' | '))
    .option(...dirOption)
    .option(...jsonOption)
    .action(async (family: string, opts: { matrix?: string; json?: boolean }) => {
      if (!FAMILIES.includes(family as Family)) throw new UserError(`unknown matrix family "${family}" (known: ${FAMILIES.join(', ')})`);
      const { catalog } = await openMatrix(ctx, opts.matrix);
      const rows = familyRows(catalog, family as Family);
      // JSON: one object per entry, keyed by the table's lower-cased headers.
      const keys = rows[0]!.map((h) => h.toLowerCase());
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ family, entries: rows.slice(1).map((r) => Object.fromEntries(keys.map((k, i) => [k, r[i] ?? '']))) })}\n`);
      else ctx.io.stdout.write(table(rows));
    });

  matrix
    .command('check')
    .description('validate every matrix file: schema, dangling references, duplicate ids, a primary source and a read date on every fact')
    .option(...dirOption)
    .option(...jsonOption)
    .action(async (opts: { matrix?: string; json?: boolean }) => {
      const { catalog, files } = await openMatrix(ctx, opts.matrix);
      const { facts, verified } = factCounts(catalog);
      const span = readSpan(catalog.matrix);
      if (opts.json) return void ctx.io.stdout.write(`${JSON.stringify({ ok: true, files: Object.keys(files).length, facts, verified, read: span })}\n`);
      ctx.io.stdout.write(`matrix OK: ${Object.keys(files).length} files, ${facts} facts (${verified} verified, ${facts - verified} unverified)${span ? `, read ${span.oldest} to ${span.newest}` : ''}\n`);
    });

  registerMatrixRefresh(matrix, ctx);
};
