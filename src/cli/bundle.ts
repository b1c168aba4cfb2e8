// `ferry bundle build|verify|inspect|unpack|apply`: flags, files and output; the work is in src/bundle/.
import { lockOses } from '../config/lock-os.ts';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, VerifyError } from '../errors.ts';
import { applyDelta } from '../bundle/apply.ts';
import type { ProgressEvent } from '../bundle/artifact.ts';
import { buildSteps, planFromInput, type BuildState } from '../bundle/build.ts';
import { defaultSources } from '../bundle/default-sources.ts';
import { formatBytes, readBundleFile, readBundleManifest, renderSummary, summarize } from '../bundle/inspect.ts';
import type { Verdict } from '../bundle/judge.ts';
import { BundleLayout } from '../bundle/layout.ts';
import { packIso, packSplit, parseSize, unpackBundle } from '../bundle/pack.ts';
import { renderPlan } from '../bundle/plan.ts';
import { FINGERPRINT_PATTERN, fingerprint, parsePrivateKey, parsePublicKey } from '../bundle/sign.ts';
import { DEFAULT_VERIFY_CONCURRENCY, verifyBundle } from '../bundle/verify.ts';
import { KernelRelease, MirrorsFile, withMirrors } from '../config/bundle-spec.ts';
import { loadBundleSpec, loadLock, loadSiteFile } from '../config/inputs.ts';
import { siteBuild, type SiteBuild } from '../bundle/site-build.ts';
import { loadYamlFile } from '../config/load.ts';
import { loadMatrix } from '../matrix/load.ts';
import { ferryBinaryForBundle } from '../ship/ferry-binary.ts';
import type { CommandContext } from './program.ts';
import { progressMode, runWithProgress } from './progress.ts';

const TOOL_VERSION = '0.1.0';

interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
}
interface TrustFlags {
  pubkey?: string;
  fingerprint?: string;
}

async function readText(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${what} ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.code}`);
  });
}

/**
 * The key to trust: a public key file the caller holds (--pubkey), or the bundle's own ferry.pub only when its
 * fingerprint equals the one the caller was given out of band (--fingerprint). Never the bundle's key by itself.
 */
async function trustedKey(flags: TrustFlags, bundle: string): Promise<KeyObject | undefined> {
  if (flags.pubkey && flags.fingerprint) throw new UserError('give --pubkey or --fingerprint, not both');
  if (flags.fingerprint !== undefined && !FINGERPRINT_PATTERN.test(flags.fingerprint))
    throw new UserError(`--fingerprint ${JSON.stringify(flags.fingerprint)}: not a key fingerprint`, { hint: 'it looks like SHA256: and 43 characters, as `ferry key fingerprint ferry.pub` prints it' });
  if (flags.pubkey) return parsePublicKey(await readText(flags.pubkey, 'public key'), flags.pubkey);
  if (!flags.fingerprint) return undefined;
  const text = await readBundleFile(bundle, BundleLayout.publicKey);
  if (!text) throw new VerifyError([`${BundleLayout.publicKey}: missing, so --fingerprint cannot be checked`]);
  let key: KeyObject;
  try {
    key = parsePublicKey(text.toString('utf8'), BundleLayout.publicKey);
  } catch {
    throw new VerifyError([`${BundleLayout.publicKey}: not an ed25519 public key (damaged)`]);
  }
  if (fingerprint(key) !== flags.fingerprint)
    throw new VerifyError([`${BundleLayout.publicKey}: fingerprint ${fingerprint(key)} is not the trusted ${flags.fingerprint}`]);
  return key;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UserError(`--concurrency ${text}: must be an integer from 1 to 256`);
  return n;
}

function printVerdict(ctx: CommandContext, flags: OutputFlags, v: Verdict & { form: string }, seconds: number): void {
  const rate = seconds > 0 ? v.checkedBytes / 1e6 / seconds : 0;
  if (flags.json) {
    ctx.io.stdout.write(`${JSON.stringify({ ok: true, form: v.form, files: v.checkedFiles, bytes: v.checkedBytes, seconds, signer: v.signer ?? null, notes: v.notes })}\n`);
    return;
  }
  if (flags.quiet) return;
  ctx.io.stdout.write(
    `ok: ${v.checkedFiles} files, ${formatBytes(v.checkedBytes)} checked (${v.form}) in ${seconds.toFixed(1)} s, ${rate.toFixed(0)} MB/s\n` +
      (v.signer ? `signature: good, by ${v.signer}\n` : '') +
      v.notes.map((n) => `note: ${n}\n`).join(''),
  );
}

/** Runs verify-like work; in --json mode a failure is also reported on stdout before the error exits 6. */
async function reportingFailure<T>(ctx: CommandContext, flags: OutputFlags, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (flags.json && error instanceof VerifyError) ctx.io.stdout.write(`${JSON.stringify({ ok: false, problems: error.problems })}\n`);
    throw error;
  }
}

/** Runs one long step with the same progress display as a build (listr2 on a terminal, a line otherwise). */
async function withProgress<T>(ctx: CommandContext, flags: OutputFlags, title: string, work: (progress: (e: ProgressEvent) => void) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await runWithProgress([{ title, run: async (progress) => void (result = await work(progress)) }], ctx.io, progressMode(flags, ctx.io));
  return result as T;
}

/** The versions the matrix (matrices/os.yaml, or the copy inside the executable) knows for one distro, e.g. rocky. */
async function matrixOsVersions(distro: string): Promise<string[]> {
  const { matrix } = await loadMatrix();
  return matrix.os.releases.filter((r) => r.distros.includes(distro)).map((r) => r.version);
}

function cacheDirOf(ctx: CommandContext, flag: string | undefined): string {
  if (flag) return resolve(ctx.cwd, flag);
  const base = ctx.env.XDG_CACHE_HOME ?? (ctx.env.HOME ? join(ctx.env.HOME, '.cache') : undefined);
  if (!base) throw new UserError('no cache directory: set HOME or pass --cache DIR');
  return join(base, 'ferry');
}

interface BuildFlags extends OutputFlags {
  lock: string;
  spec: string;
  out?: string;
  cache?: string;
  since?: string;
  signKey?: string;
  split?: string;
  iso?: string;
  /** A path, false for --no-ferry-binary, undefined for the default (this executable, or dist/ferry). */
  ferryBinary?: string | false;
  dryRun?: boolean;
  concurrency: number;
  kernel: string[];
  mirrors?: string;
  partial?: boolean;
  site?: string;
  closure?: string;
}

async function build(ctx: CommandContext, flags: BuildFlags): Promise<void> {
  const at = (p: string) => resolve(ctx.cwd, p);
  if (!flags.out && !flags.iso && !flags.dryRun) throw new UserError('give --out DIR (or --iso FILE)');
  if (flags.split && !flags.out) throw new UserError('--split needs --out DIR for the chunks');
  const chunkSize = flags.split ? parseSize(flags.split) : undefined;
  const lock = await loadLock(at(flags.lock));
  const lockText = await readText(at(flags.lock), 'lock');
  const fromSpec = await loadBundleSpec(at(flags.spec), { cwd: ctx.cwd });
  const loaded = flags.mirrors ? withMirrors(fromSpec, await loadYamlFile(at(flags.mirrors), MirrorsFile)) : fromSpec;
  for (const k of flags.kernel)
    if (!KernelRelease.safeParse(k).success) throw new UserError(`--kernel ${JSON.stringify(k)}: must be a kernel release as \`uname -r\` prints it`);
  if (flags.closure !== undefined && flags.closure !== 'full' && flags.closure !== 'installed') throw new UserError(`--closure ${flags.closure}: must be full or installed`);
  if (flags.closure === 'installed' && !flags.site) throw new UserError('--closure installed needs --site site.json (the nodes\' installed packages)', { hint: 'ferry doctor -i cluster.yaml --site-out site.json on the air-gapped side' });
  // --site: the nodes' kernels, OS release and installed packages, refused where they contradict the lock.
  const fromSite: SiteBuild | undefined = flags.site
    ? siteBuild(lock.stack, await loadSiteFile(at(flags.site)), { file: flags.site, kernels: flags.kernel, closure: flags.closure === 'full' ? 'full' : 'installed' })
    : undefined;
  const kernels = fromSite ? fromSite.kernels : flags.kernel;
  const withKernels = kernels.length > 0 ? { ...loaded, kernels } : loaded;
  const closure = fromSite?.closure ?? (flags.closure === 'full' ? 'full' : undefined);
  const spec = closure ? { ...withKernels, closure } : withKernels;
  const oses = lockOses(lock.stack);
  const knownOsVersions = oses.length === 1 ? await matrixOsVersions(lock.stack.os.id) : Object.fromEntries(await Promise.all(oses.map(async (o) => [o.os.id, await matrixOsVersions(o.os.id)] as const)));
  if (flags.dryRun) {
    const plan = planFromInput({ lock, spec, sources: defaultSources, knownOsVersions });
    ctx.io.stdout.write(flags.json ? `${JSON.stringify(fromSite ? { ...plan, site: fromSite.record, siteNotes: fromSite.notes } : plan)}\n` : renderPlan(plan));
    if (fromSite && !flags.json) ctx.io.stdout.write(renderSiteNotes(flags.site!, fromSite));
    return;
  }
  const cacheDir = cacheDirOf(ctx, flags.cache);
  let signing: { privateKey: KeyObject; publicPem: string } | undefined;
  if (flags.signKey) {
    const privateKey = parsePrivateKey(await readText(at(flags.signKey), 'signing key'), flags.signKey);
    signing = { privateKey, publicPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
  }
  // Packed output (chunks, ISO) is written straight from a bundle directory kept in the cache.
  const packed = chunkSize !== undefined || flags.iso !== undefined;
  const bundleDir = packed ? join(cacheDir, 'bundles', flags.since ? `${spec.name}-delta` : spec.name) : at(flags.out!);
  const state: BuildState = { artifacts: [], pruned: [], leftOut: [] };
  const steps = buildSteps(
    {
      lock,
      lockText,
      spec,
      outDir: bundleDir,
      cacheDir,
      since: flags.since ? at(flags.since) : undefined,
      signing,
      ferryBinary: flags.ferryBinary === false ? undefined : flags.ferryBinary ? at(flags.ferryBinary) : () => ferryBinaryForBundle({ fallbackDir: join(cacheDir, 'sea') }),
      now: ctx.now(),
      env: ctx.env,
      sources: defaultSources,
      knownOsVersions,
      concurrency: flags.concurrency,
      toolVersion: TOOL_VERSION,
      partial: flags.partial === true,
      ...(fromSite ? { site: fromSite.record } : {}),
    },
    state,
  );
  const packedTo: { chunks?: number; iso?: string } = {};
  if (chunkSize !== undefined)
    steps.push({
      title: `Pack into ${formatBytes(chunkSize)} chunks`,
      run: async () => {
        const index = await packSplit(bundleDir, at(flags.out!), chunkSize);
        packedTo.chunks = index.chunks.length;
        return `${index.chunks.length} chunks, ${formatBytes(index.totalSize)} in ${flags.out}`;
      },
    });
  if (flags.iso)
    steps.push({
      title: 'Write the ISO image',
      run: async () => {
        await packIso(bundleDir, at(flags.iso!), `ferry-${spec.name}`);
        packedTo.iso = flags.iso;
        return flags.iso;
      },
    });
  if (fromSite && !flags.json && !flags.quiet) ctx.io.stderr.write(renderSiteNotes(flags.site!, fromSite));
  await runWithProgress(steps, ctx.io, progressMode(flags, ctx.io));
  const bytes = state.artifacts.reduce((n, a) => n + a.size, 0);
  const result = { bundle: bundleDir, artifacts: state.artifacts.length, bytes, signed: signing !== undefined, delta: state.delta ?? null, leftOut: state.leftOut, ...packedTo };
  if (flags.json) ctx.io.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!flags.quiet) {
    ctx.io.stdout.write(`built ${bundleDir}: ${state.artifacts.length} artifacts, ${formatBytes(bytes)}${signing ? ', signed' : ', NOT signed (no --sign-key)'}\n`);
    for (const l of state.leftOut) ctx.io.stdout.write(`left out (--partial): ${l}\n`);
    if (packedTo.chunks !== undefined) ctx.io.stdout.write(`wrote ${packedTo.chunks} chunks and ${BundleLayout.chunkIndex} to ${flags.out}\n`);
    if (packedTo.iso) ctx.io.stdout.write(`wrote ${packedTo.iso}\n`);
  }
}

/** What the build takes from the site file, in a few lines. */
function renderSiteNotes(file: string, s: SiteBuild): string {
  const r = s.record;
  const lines = [
    `site ${file}: ${r.nodes.length} node(s) of ${r.os.id} ${r.osVersions.join(', ')}${r.cluster ? ` (cluster ${r.cluster})` : ''}, read ${r.generatedAt}`,
    ...(r.kernels.length > 0 ? [`  GPU node kernels: ${r.kernels.join(', ')}`] : []),
    `  closure: ${r.closure === 'installed' ? `against the ${r.installed!.packages.length} packages every node has (sha256 ${r.installed!.sha256.slice(0, 12)})` : 'full (every dependency carried)'}`,
    ...s.notes.map((n) => `  note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Registers `ferry bundle`. */
export function registerBundleCommands(program: Command, ctx: CommandContext): void {
  const bundle = program.command('bundle').description('build, check and carry the air-gap bundle: build, verify, inspect, unpack, apply');
  const output = (c: Command) => c.option('--json', 'machine-readable result on stdout, no progress').option('--quiet', 'print nothing but errors');
  const trust = (c: Command) =>
    c
      .option('--pubkey <file>', 'trusted public key (PEM or ssh-ed25519) that must have signed the manifest')
      .option('--fingerprint <SHA256:...>', "trust the bundle's ferry.pub only if it has this fingerprint (got over a trusted channel)");

  output(
    bundle
      .command('build')
      .description('Fetch everything the lock needs into a bundle: manifest, SHA256SUMS, SBOM, signature')
      .requiredOption('--lock <file>', 'ferry.lock.yaml from ferry resolve')
      .requiredOption('--spec <file>', 'bundle spec (bundles/*.yaml)')
      .option('--out <dir>', 'bundle directory (with --split: the directory for the chunks)')
      .option('--cache <dir>', 'persistent download cache (default ~/.cache/ferry)')
      .option('--mirrors <file>', "the site's mirrors (kind: Mirrors; the spec's mirrors: and registries: sections), laid over the spec's")
      .option('--since <manifest>', "previous bundle's manifest.yaml: build a delta with only what changed")
      .option('--sign-key <file>', 'ed25519 private key (ferry key generate) to sign the manifest')
      .option('--split <size>', 'write the bundle as tar chunks of SIZE (e.g. 3900M for FAT32)')
      .option('--iso <file>', 'also write the bundle as an ISO image (needs xorriso)')
      .option('--ferry-binary <file>', 'the ferry executable to carry as bin/ferry (default: this executable, or dist/ferry built from this checkout)')
      .option('--no-ferry-binary', 'carry no bin/ferry')
      .option('--dry-run', 'print what would be fetched from where (after mirrors), fetch nothing')
      .option('--partial', 'allow a bundle that lacks parts of the lock (add-on bundles, the demo): packages and manifests the upstreams lack are left out and listed; a wrong version is still refused, and install refuses the phases that need what is missing')
      .option('--kernel <release>', "a GPU node's exact kernel (uname -r); repeat for each; overrides the spec's kernels", (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--site <file>', "the site file from `ferry doctor --site-out`: every GPU node's kernel, the nodes' OS release, and (closure installed) their installed packages; refused where it contradicts the lock")
      .option('--closure <mode>', 'full (carry every dependency) or installed (leave out what every node of --site has; the default with --site)')
      .option('--concurrency <n>', 'downloads at once', positiveInt, 4),
  ).action((flags: BuildFlags) => build(ctx, flags));

  output(
    trust(
      bundle
        .command('verify')
        .description('Check every file against the manifest and SHA256SUMS, and the signature; exit 6 naming each bad file')
        .argument('<path>', 'bundle directory, chunk directory or index, or ISO image')
        .option('--concurrency <n>', 'files hashed at once', positiveInt, DEFAULT_VERIFY_CONCURRENCY),
    ),
  ).action(async (path: string, flags: OutputFlags & TrustFlags & { concurrency: number }) => {
    const full = resolve(ctx.cwd, path);
    await reportingFailure(ctx, flags, async () => {
      const key = await trustedKey(flags, full);
      const started = ctx.now().getTime();
      const v = await withProgress(ctx, flags, `Verify ${path}`, (progress) => verifyBundle(full, { trustedKey: key, concurrency: flags.concurrency, progress }));
      printVerdict(ctx, flags, v, (ctx.now().getTime() - started) / 1000);
    });
  });

  bundle
    .command('inspect')
    .description('What the bundle holds: sizes per kind, packages, images (from the manifest; nothing is checked)')
    .argument('<path>', 'bundle directory, chunk directory or index, or ISO image')
    .option('--json', 'the summary as JSON')
    .action(async (path: string, flags: { json?: boolean }) => {
      const summary = summarize(await readBundleManifest(resolve(ctx.cwd, path)));
      ctx.io.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
    });

  output(
    trust(
      bundle
        .command('unpack')
        .description('Unpack split chunks or an ISO into a bundle directory (streaming), then verify it')
        .argument('<source>', 'chunk directory or index, or ISO image')
        .requiredOption('--out <dir>', 'bundle directory to create'),
    ),
  ).action(async (source: string, flags: OutputFlags & TrustFlags & { out: string }) => {
    const from = resolve(ctx.cwd, source);
    const out = resolve(ctx.cwd, flags.out);
    await reportingFailure(ctx, flags, async () => {
      const key = await trustedKey(flags, from);
      await withProgress(ctx, flags, `Unpack ${source} into ${flags.out}`, () => unpackBundle(from, out));
      const started = ctx.now().getTime();
      const v = await withProgress(ctx, flags, `Verify ${flags.out}`, (progress) => verifyBundle(out, { trustedKey: key, progress }));
      printVerdict(ctx, flags, v, (ctx.now().getTime() - started) / 1000);
    });
  });

  output(
    trust(
      bundle
        .command('apply')
        .description('Apply a delta bundle onto the bundle it was built against, in place, then verify the result')
        .argument('<delta>', 'delta bundle directory')
        .requiredOption('--onto <dir>', 'the previous full bundle'),
    ),
  ).action(async (delta: string, flags: OutputFlags & TrustFlags & { onto: string }) => {
    const from = resolve(ctx.cwd, delta);
    await reportingFailure(ctx, flags, async () => {
      const started = ctx.now().getTime();
      const key = await trustedKey(flags, from);
      const v = await withProgress(ctx, flags, `Apply ${delta} onto ${flags.onto}`, () => applyDelta(from, resolve(ctx.cwd, flags.onto), { trustedKey: key }));
      if (!flags.json && !flags.quiet) ctx.io.stdout.write(`applied: ${v.carried} files from the delta, ${v.removed} removed\n`);
      printVerdict(ctx, flags, { ...v, form: 'directory' }, (ctx.now().getTime() - started) / 1000);
    });
  });
}
