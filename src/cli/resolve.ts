// `ferry resolve`: load the matrix, resolve the request, print the stack (table or --json), write --out.
import { writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { stringify } from 'yaml';
import { Lock } from '../config/lock.ts';
import { notInstallable } from '../bundle/lock-match.ts';
import { NoStackError, UserError } from '../errors.ts';
import { explainResolution } from '../matrix/explain.ts';
import { parseRequest, PIN_COMPONENTS, type RawRequest } from '../matrix/request.ts';
import { resolve } from '../matrix/resolve.ts';
import { toLock } from '../matrix/to-lock.ts';
import type { RegisterCommand } from './commands.ts';
import { openMatrix } from './open-matrix.ts';

interface ResolveOptions {
  os: string;
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
    .requiredOption('--os <id>', 'target OS release, e.g. rocky-9.4, rhel-8.10, ubuntu-24.04, debian-12')
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
    .action(async (opts: ResolveOptions) => {
      const { catalog, digest } = await openMatrix(ctx, opts.matrix);
      const raw: RawRequest = { os: opts.os, gpu: opts.gpu, k8s: opts.k8s, cri: opts.cri, cni: opts.cni, cgroup: opts.cgroup, arch: opts.arch, pins: opts.pin.length > 0 ? opts.pin : undefined, acceptRisks: opts.acceptRisk.length > 0 ? opts.acceptRisk : undefined };
      const request = parseRequest(catalog, raw);
      const now = ctx.now();
      const res = resolve(catalog, request, now);
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
        const lock = Lock.parse(toLock(catalog, res, { raw, now, matrixDigest: digest }));
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
