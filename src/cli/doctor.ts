// `ferry doctor`: check every node and node pair of an inventory over SSH (or this machine with --local) before install.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Role, selinuxPolicyOf } from '../config/inventory.ts';
import { inventoryPath, loadInventory, loadLock } from '../config/inputs.ts';
import { UserError } from '../errors.ts';
import { BundleLayout } from '../bundle/layout.ts';
import { LocalHost } from '../hosts/local.ts';
import { checkIds } from '../checks/registry.ts';
import { runDoctorWithFacts, type DoctorTarget, type OpenedHosts } from '../doctor/doctor.ts';
import { buildSiteFile, renderSiteFile } from '../doctor/site-file.ts';
import { SiteFile } from '../config/site.ts';
import { planFrom } from '../doctor/plan.ts';
import { renderJson, renderTable } from '../doctor/report.ts';
import { renderHtml } from '../doctor/html.ts';
import type { PairMode } from '../probes/pairs.ts';
import { openInventoryHosts } from '../doctor/ssh-hosts.ts';
import type { CommandContext } from './program.ts';
import type { RegisterCommand } from './commands.ts';

interface DoctorFlags {
  inventory?: string;
  local?: boolean;
  json?: boolean;
  acceptNewHostKeys?: boolean;
  lock?: string;
  only?: string;
  skip?: string;
  bundle?: string;
  roles?: string;
  out?: string;
  siteOut?: string;
  pairs?: string;
}

function idList(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const known = checkIds();
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0) throw new UserError(`${flag}: unknown check id(s): ${unknown.join(', ')}`, { hint: `known ids: ${known.join(', ')}` });
  return ids;
}

/** report.json → report.html (any other name gets .html appended). */
export function htmlBeside(jsonPath: string): string {
  return jsonPath.endsWith('.json') ? `${jsonPath.slice(0, -'.json'.length)}.html` : `${jsonPath}.html`;
}

function pairMode(value: string | undefined): PairMode {
  if (value === undefined || value === 'all' || value === 'rack') return value ?? 'all';
  throw new UserError(`--pairs: unknown mode "${value}"`, { hint: 'all (every node pair) or rack (every pair within a rack or subnet, representatives across them)' });
}

/** Compressed image bytes in a bundle times 3: containerd keeps the blobs and unpacks them (about twice their size). */
async function bundleImageBytes(dir: string): Promise<number> {
  const blobs = join(dir, BundleLayout.imagesDir, 'blobs', 'sha256');
  let names: string[];
  try {
    names = await readdir(blobs);
  } catch {
    throw new UserError(`--bundle ${dir}: no ${BundleLayout.imagesDir}/blobs/sha256 in it`, { hint: 'point --bundle at the directory `ferry bundle build` wrote' });
  }
  const sizes = await Promise.all(names.map(async (n) => (await stat(join(blobs, n))).size));
  return sizes.reduce((a, b) => a + b, 0) * 3;
}

async function doctor(flags: DoctorFlags, ctx: CommandContext): Promise<void> {
  if (!flags.local && !flags.inventory) throw new UserError('doctor needs -i/--inventory FILE or --local', { hint: 'ferry doctor -i cluster.yaml' });
  const selection = { only: idList(flags.only, '--only'), skip: idList(flags.skip, '--skip') };
  const pairs = pairMode(flags.pairs);
  const homeDir = ctx.env.HOME ?? homedir();
  const inventory = flags.inventory
    ? await loadInventory(resolve(ctx.cwd, flags.inventory), { homeDir, acceptNewHostKeys: flags.acceptNewHostKeys === true })
    : undefined;
  const lockPath = flags.lock ?? inventory?.kubernetes.lock;
  const lock = lockPath ? await loadLock(flags.lock ? resolve(ctx.cwd, lockPath) : inventoryPath(lockPath, { homeDir, baseDir: resolve(ctx.cwd, flags.inventory!, '..') })) : undefined;
  const imageBytes = flags.bundle ? await bundleImageBytes(resolve(ctx.cwd, flags.bundle)) : undefined;
  const plan = planFrom(inventory, lock, imageBytes);
  let targets: DoctorTarget[];
  let opened: OpenedHosts;
  if (flags.local) {
    const roles = (flags.roles ?? 'control-plane').split(',').map((r) => {
      const parsed = Role.safeParse(r.trim());
      if (!parsed.success) throw new UserError(`--roles: unknown role "${r}"`, { hint: `roles: ${Role.options.join(', ')}` });
      return parsed.data;
    });
    const name = hostname();
    targets = [{ name, address: '', roles }];
    const local = new LocalHost(name);
    opened = { hosts: new Map([[name, local]]), close: () => local.close() };
  } else {
    const inv = inventory!;
    targets = inv.hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles, selinux: selinuxPolicyOf(inv, h.name), ...(h.rack ? { rack: h.rack } : {}) }));
    opened = openInventoryHosts(inv, {
      inventoryPath: resolve(ctx.cwd, flags.inventory!),
      hostKeyPolicy: flags.acceptNewHostKeys ? 'accept-new' : 'strict',
      homeDir,
      agentSocket: ctx.env.SSH_AUTH_SOCK,
    });
  }
  const { report, gathered } = await runDoctorWithFacts({
    cluster: inventory?.name,
    targets,
    plan,
    opened,
    now: ctx.now,
    selection,
    concurrency: inventory?.ssh.concurrency ?? 1,
    packages: flags.siteOut !== undefined,
    pairs,
  });
  // --json: one line (JSON lines, like every command); the file keeps the indented form for people to read.
  ctx.io.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : renderTable(report));
  // The JSON report on disk is what `ferry install` reads the recommendation from.
  if (flags.out) {
    await writeFile(resolve(ctx.cwd, flags.out), renderJson(report));
    // Beside it, the page a person opens in a browser on this host: failures by cause, node × node grids.
    await writeFile(resolve(ctx.cwd, htmlBeside(flags.out)), renderHtml(report));
  }
  // The site file goes to the internet side (`ferry bundle build --site`), whatever the checks said.
  if (flags.siteOut) {
    const site = buildSiteFile({ cluster: inventory?.name, generatedAt: ctx.now(), gathered });
    // What a node reported must make a file the bundle build takes (with --local the node's name is the hostname).
    const invalid = SiteFile.safeParse(site);
    if (!invalid.success)
      throw new UserError(`--site-out ${flags.siteOut}: what the nodes reported does not make a valid site file: ${invalid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
        hint: flags.local ? 'with --local the node is named after this machine\'s hostname, which must be a lowercase DNS label; use an inventory (-i) to name it' : 'report this output to the ferry maintainers',
      });
    if (site.nodes.length === 0) ctx.io.stderr.write(`${flags.siteOut}: not written: no host could be read (fix what the report names, then run doctor again)\n`);
    else
      await writeFile(resolve(ctx.cwd, flags.siteOut), renderSiteFile(site)).catch((error: NodeJS.ErrnoException) => {
        throw new UserError(`--site-out ${flags.siteOut}: cannot write it (${error.code})`, { hint: 'name a file in a directory that exists' });
      });
    if (site.nodes.length > 0 && site.unreachable.length > 0)
      ctx.io.stderr.write(`${flags.siteOut}: leaves out ${site.unreachable.join(', ')} (unreachable); a bundle built from it does not know their kernels or packages\n`);
  }
  ctx.setExitCode(report.exitCode as Parameters<CommandContext['setExitCode']>[0]);
}

/** Registers `ferry doctor` with its flags. */
export const registerDoctor: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('doctor')
    .description('check every node and node pair before install: facts, checks, pairwise probes, recommendation')
    .option('-i, --inventory <file>', 'cluster inventory (cluster.yaml)')
    .option('--local', 'run the node checks on this machine')
    .option('--json', 'print the report as JSON (shape in docs/doctor.md)')
    .option('--accept-new-host-keys', 'trust host keys not yet in known_hosts (a changed key is still refused)')
    .option('--lock <file>', 'take the Kubernetes version, CNI and driver from this lock file')
    .option('--only <ids>', 'run only these check ids (comma-separated)')
    .option('--skip <ids>', 'skip these check ids (comma-separated)')
    .option('--bundle <dir>', 'bundle directory: its images size the disk-headroom check')
    .option('--roles <roles>', 'roles of this machine with --local (comma-separated)', 'control-plane')
    .option('--pairs <mode>', 'node pairs to probe: all, or rack (every pair within a rack or subnet, 2 per group across them, control planes with all)', 'all')
    .option('--out <file>', 'also write the JSON report to this file (install reads its recommendation), and report.html beside it')
    .option('--site-out <file>', "also write the site file (each node's OS, kernel, GPUs and installed packages; no address or secret) for `ferry bundle build --site`")
    .action((flags: DoctorFlags) => doctor(flags, ctx));
};
