// `ferry resolve`: load the matrix, resolve the request, print the stack (table or --json), write --out.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { stringify } from 'yaml';
import { Lock } from '../config/lock.ts';
import { notInstallable } from '../bundle/lock-match.ts';
import { NoStackError, UserError } from '../errors.ts';
import { readSpan } from '../matrix/check.ts';
import { explainResolution } from '../matrix/explain.ts';
import { DEFAULT_MAX_FACT_AGE_DAYS, staleFactWarnings } from '../matrix/fact-age.ts';
import { normalizeOsId, osIdFromRelease, parseOsRelease, siteOsIds } from '../matrix/os-release.ts';
import { loadSiteFile } from '../config/inputs.ts';
import { parseRequests, PIN_COMPONENTS, type RawRequest } from '../matrix/request.ts';
import { resolveMixed } from '../matrix/resolve-many.ts';
import { toLock } from '../matrix/to-lock.ts';
import type { RegisterCommand } from './commands.ts';
import { openMatrix } from './open-matrix.ts';

interface ResolveOptions {
  os: string[];
  osRelease: string[];
  site?: string;
  maxFactAge: string;
  gpu?: string;
  k8s?: string;
  cri?: string;
  cni?: string;
  cgroup?: string;
  arch?: string;
  pin: string[];
  acceptRisk: string[];
  json?: boolean;
  out?: string;
  matrix?: string;
}

/** Registers `ferry resolve`. */
export const registerResolve: RegisterCommand = (program, ctx) => {
  program
    .command('resolve')
    .description('pick OS × kernel × runc × CRI × Kubernetes × NVIDIA driver × CNI that fit together, with the reason for each')
    .option('--os <id>', 'target OS as <ID>-<VERSION_ID> of /etc/os-release, e.g. rocky-9.4, almalinux-9.4, rhel-8.10, ubuntu-24.04, debian-12; repeatable: one stack valid on every OS named (a mixed cluster)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--os-release <file>', "read the target OS from a node's /etc/os-release instead of --os; repeatable", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--site <file>', "every OS release the site's nodes run, from `ferry doctor --site-out site.json` (besides any --os)")
    .option('--gpu <model>', 'GPU model, e.g. h100, a100, v100, b200 (omit for no GPU)')
    .option('--k8s <version>', 'Kubernetes minor or version, e.g. 1.35 or 1.35.2 (default: newest supported)')
    .option('--cri <name>', 'container runtime: containerd or cri-o (default: containerd)')
    .option('--cni <name>', 'CNI: calico, cilium or flannel (default: the first that fits, in that order)')
    .option('--cgroup <version>', 'cgroup hierarchy: v1, v2 or auto (default: auto, the OS default unless a rule needs v2)')
    .option('--arch <arch>', 'amd64 or arm64 (default: amd64)')
    .option('--pin <component=version>', `force a version; repeatable (components: ${PIN_COMPONENTS.join(', ')})`, (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--accept-risk <rule>', "accept one refusal, recorded in the lock: a runc security floor or runc's tested line only (a distribution's runc with backported fixes); repeatable", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print the resolution as JSON')
    .option('--out <file>', 'write the lock file (ferry.lock.yaml), the input of `ferry bundle build`')
    .option('--matrix <dir>', "matrix directory (default: the repo's matrices/)")
    .option('--max-fact-age <days>', 'warn when a choice rests on matrix facts read longer ago than this', String(DEFAULT_MAX_FACT_AGE_DAYS))
    .action(async (opts: ResolveOptions) => {
      const maxAge = Number(opts.maxFactAge);
      if (!Number.isInteger(maxAge) || maxAge < 0) throw new UserError(`--max-fact-age must be a whole number of days, not "${opts.maxFactAge}"`);
      const { catalog, digest, matrix } = await openMatrix(ctx, opts.matrix);
      const [os, ...alsoOs] = await targetOses(ctx.cwd, opts, catalog);
      const raw: RawRequest = { os: os!, ...(alsoOs.length > 0 ? { alsoOs } : {}), gpu: opts.gpu, k8s: opts.k8s, cri: opts.cri, cni: opts.cni, cgroup: opts.cgroup, arch: opts.arch, pins: opts.pin.length > 0 ? opts.pin : undefined, acceptRisks: opts.acceptRisk.length > 0 ? opts.acceptRisk : undefined };
      const requests = parseRequests(catalog, raw);
      const now = ctx.now();
      const res = resolveMixed(catalog, requests, now);
      if (res.ok) res.warnings.push(...staleFactWarnings(res.decisions, now, maxAge));
      if (!res.ok) {
        if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ ok: false, conflicts: res.conflicts })}\n`);
        throw new NoStackError(res.conflicts.map((c) => ({ rules: c.rules, message: `${c.message} [${c.rules.join(', ')}]` })), {
          hint: 'change or drop the pins and flags these rules name; `ferry matrix show rules` explains each rule',
        });
      }
      const refused = notInstallable(res.stack);
      if (refused) {
        const conflict = { rules: ['ferry-installs-containerd'], message: refused };
        if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ ok: false, conflicts: [conflict] })}\n`);
        throw new NoStackError([{ ...conflict, message: `${refused} [ferry-installs-containerd]` }], { hint: 'resolve with --cri containerd (the default); `ferry matrix` still shows which CRI-O releases fit' });
      }
      if (opts.out) {
        const lock = Lock.parse(toLock(catalog, res, { raw, now, matrixDigest: digest, matrixReadAt: readSpan(matrix)?.newest }));
        const path = resolvePath(ctx.cwd, opts.out);
        try {
          await writeFile(path, stringify(lock, { lineWidth: 0 }));
        } catch (error) {
          throw new UserError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`, { cause: error });
        }
      }
      if (opts.json) {
        const { stack, decisions, hostChanges, warnings } = res;
        ctx.io.stdout.write(`${JSON.stringify({ ok: true, stack, decisions, hostChanges, warnings })}\n`);
      } else {
        ctx.io.stdout.write(explainResolution(res));
        if (opts.out) ctx.io.stdout.write(`\nwrote ${opts.out}\n`);
      }
    });
};

/** The OS ids from --os and from the ID and VERSION_ID of each --os-release file, in that order; at least one. */
async function targetOses(cwd: string, opts: ResolveOptions, catalog: Parameters<typeof osIdFromRelease>[0]): Promise<string[]> {
  if (opts.os.length === 0 && opts.osRelease.length === 0 && !opts.site)
    throw new UserError('the target OS is missing: pass --os <ID>-<VERSION_ID> (e.g. rocky-9.4) or --os-release FILE (repeat for a mixed cluster), or --site site.json');
  const fromFiles: string[] = [];
  for (const file of opts.osRelease) {
    const path = resolvePath(cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`, { cause: error });
    }
    const fields = parseOsRelease(text);
    if (!fields.ID || !fields.VERSION_ID) throw new UserError(`${path} has no ${fields.ID ? 'VERSION_ID' : 'ID'}: is it an os-release file?`);
    fromFiles.push(osIdFromRelease(catalog, fields.ID, fields.VERSION_ID));
  }
  const given = [...opts.os, ...fromFiles];
  if (!opts.site) return given;
  // The site's releases that --os did not name already (an alias such as almalinux-9.4 counts as alma-9.4).
  const named = new Set(given.map((o) => normalizeOsId(catalog, o)));
  const fromSite = siteOsIds(catalog, (await loadSiteFile(resolvePath(cwd, opts.site))).nodes);
  return [...given, ...fromSite.filter((o) => !named.has(o))];
}
