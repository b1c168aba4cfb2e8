// `ferry demo`: the main job on a built-in default, end to end on this machine. Resolve the README's example,
// build a small bundle for Debian 12 lab nodes from the machine's own apt sources, verify it; then, where the
// machine allows, boot 3 lab nodes, run doctor and install on them (skipping the phases a lab cannot run, by id,
// with the reason), and tear everything down. Each step is a real ferry command run in-process.
import { release, tmpdir } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { machineAptSources } from '../bundle/sources/machine-apt-sources.ts';
import { loadYamlFile } from '../config/load.ts';
import { Lock } from '../config/lock.ts';
import { playbookPhases } from '../config/playbook.ts';
import { readPlaybook } from '../cli/playbooks.ts';
import type { Io } from '../cli/io.ts';
import { labSshArgv, startLab, type Lab } from '../lab/lab.ts';
import { labMachineFacts, missingLabNeeds } from '../lab/needs.ts';
import { CACHE_DIR, ensureBaseRootfs } from '../lab/rootfs.ts';
import { addressIn } from '../lab/subnet.ts';
import { labPhasePlan } from './lab-phases.ts';
import { installLock, labLock, labSpec } from './lab-inputs.ts';
import { aptCandidateVersion, debianRegistryBinary, installedIn } from './machine-facts.ts';
import { renderSummary, summarize, type DemoStep, type DemoSummary } from './summary.ts';

/** The README's example request, resolved first so the demo shows what ferry would pick for a GPU site. */
export const DEMO_EXAMPLE = ['--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33'] as const;
export const DEMO_NODES = ['node1', 'node2', 'node3'] as const;

export interface DemoOptions {
  json: boolean;
  keep: boolean;
  workDir?: string;
  /** Run one ferry command in-process with this Io; returns its exit code. */
  ferry: (argv: string[], io: Io) => Promise<number>;
  io: Io;
  now: () => Date;
  /** The environment whose PATH the lab's programs are looked up in. */
  env: Readonly<Record<string, string | undefined>>;
  /** The install playbook to classify and run (default: the one shipped with ferry). */
  playbook?: string;
}

/** Runs the demo and returns its summary (already printed). */
export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  const work = o.workDir ?? join(tmpdir(), `ferry-demo-${process.pid}`);
  const removeWork = o.workDir === undefined && !o.keep;
  await mkdir(work, { recursive: true });
  const steps: DemoStep[] = [];
  const phases: DemoSummary['phases'] = { ran: [], skipped: [] };
  const say = (text: string) => (o.json ? undefined : o.io.stderr.write(`\n== ${text}\n`));
  const emit = (event: object) => (o.json ? o.io.stdout.write(`${JSON.stringify(event)}\n`) : undefined);

  /** Runs one step, timed and recorded; a thrown error marks it failed and stops the steps after it. */
  const step = async (id: string, title: string, work: () => Promise<string>): Promise<boolean> => {
    say(title);
    const t = performance.now();
    let record: DemoStep;
    try {
      record = { id, title, status: 'ok', ms: 0, detail: await work() };
    } catch (error) {
      record = { id, title, status: 'failed', ms: 0, detail: error instanceof Error ? error.message.split('\n').join(' / ') : String(error) };
    }
    record.ms = Math.round(performance.now() - t);
    steps.push(record);
    emit({ type: 'step', ...record });
    return record.status === 'ok';
  };
  const skip = (id: string, title: string, detail: string) => {
    steps.push({ id, title, status: 'skipped', ms: 0, detail });
    emit({ type: 'step', id, title, status: 'skipped', ms: 0, detail });
  };
  /** A ferry command in-process: its output goes to the terminal, or into the step's JSON event. */
  const ferry = async (argv: string[], okCodes: number[] = [0]) => {
    const out: string[] = [];
    const io: Io = o.json ? { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true } } : o.io;
    const code = await o.ferry(o.json ? [...argv, '--json'] : argv, io);
    if (o.json) emit({ type: 'output', command: argv.slice(0, argv.findIndex((a) => a.startsWith('-'))).join(' '), code, lines: out.join('').split('\n').filter(Boolean) });
    if (!okCodes.includes(code)) throw new Error(`ferry ${argv.join(' ')} exited ${code}`);
    return code;
  };

  const exampleLock = join(work, 'example.lock.yaml');
  let example: Lock | undefined;
  await step('resolve', `Resolve the example: ferry resolve ${DEMO_EXAMPLE.join(' ')}`, async () => {
    await ferry(['resolve', ...DEMO_EXAMPLE, '--out', exampleLock]);
    example = await loadYamlFile(exampleLock, Lock);
    const s = example.stack;
    return `Kubernetes ${s.kubernetes}, ${s.cri.name} ${s.cri.version}, runc ${s.runc}, NVIDIA ${s.nvidiaDriver?.branch ?? 'none'}, ${s.cni.name} ${s.cni.version}`;
  });

  const missing = missingLabNeeds(labMachineFacts(o.env));
  const labWhy = missing.length > 0 ? `this machine lacks ${missing.join('; ')}` : undefined;
  const bundleDir = join(work, 'bundle');
  const files = { lock: join(work, 'lab.lock.yaml'), installLock: join(work, 'install.lock.yaml'), spec: join(work, 'spec.yaml') };
  let base: string | undefined;
  if (example && !labWhy)
    await step('node-image', 'Lab node image (Debian 12 by debootstrap from this machine\'s apt mirror; cached)', async () => {
      const b = await ensureBaseRootfs();
      base = b.dir;
      return `${b.dir}`;
    });
  if (example && (labWhy || base))
    await step('inputs', 'Lock and bundle spec for Debian 12 lab nodes, from this machine\'s apt sources', async () => {
      const [containerd, runc, registry, sources] = await Promise.all([aptCandidateVersion('containerd'), aptCandidateVersion('runc'), debianRegistryBinary(), machineAptSources()]);
      if (sources.length === 0) throw new Error('no Debian apt sources with main in /etc/apt');
      const lock = labLock({ example: example!, containerd, runc, kernel: release(), resolvedAt: o.now().toISOString() });
      const installed = base ? await installedIn(base) : undefined;
      await writeFile(files.lock, stringify(lock));
      await writeFile(files.installLock, stringify(installLock(lock, example!)));
      await writeFile(files.spec, stringify(labSpec({ sources, ...(installed ? { installed } : {}), ...(registry ? { registryBinary: registry } : {}) })));
      return `containerd ${containerd}, runc ${runc}; ${installed ? `${installed.length} packages a node already has are left out` : 'full dependency closure'}; ` +
        (registry ? `registry binary ${registry.version}` : 'no registry binary (docker-registry is not installed)');
    });
  const built = steps.at(-1)?.id === 'inputs' && steps.at(-1)?.status === 'ok' &&
    (await step('bundle', 'Build the bundle: ferry bundle build', async () => {
      // With the lab, beside its cache (root); without it, bundle build's default (~/.cache/ferry).
      const cache = labWhy ? [] : ['--cache', join(CACHE_DIR, 'demo-bundle-cache')];
      await ferry(['bundle', 'build', '--lock', files.lock, '--spec', files.spec, '--out', bundleDir, ...cache, '--partial']);
      return bundleDir;
    })) &&
    (await step('verify', 'Verify it: ferry bundle verify', async () => {
      await ferry(['bundle', 'verify', bundleDir]);
      return 'every checksum matches';
    }));

  let lab: Lab | undefined;
  let kept: DemoSummary['kept'];
  const labSteps = [['lab', 'Boot 3 lab nodes'], ['doctor', 'ferry doctor on the nodes'], ['install', 'ferry install on the nodes']] as const;
  if (labWhy || !built) for (const [id, title] of labSteps) skip(id, title, labWhy ?? 'an earlier step failed');
  else {
    try {
      const { playbook, source } = await readPlaybook('install', o.playbook);
      const plan = labPhasePlan(playbookPhases(playbook).map((p) => p.id), source);
      const inventory = join(work, 'cluster.yaml');
      const booted = await step('lab', `Boot ${DEMO_NODES.length} lab nodes (systemd-nspawn, own systemd and sshd, air-gapped bridge)`, async () => {
        lab = await startLab({ nodes: [...DEMO_NODES] });
        const vip = addressIn(lab.subnet, 100);
        const path = await lab.writeInventory({
          roles: Object.fromEntries(DEMO_NODES.map((n) => [n, ['control-plane']])),
          // The lab kernel cannot make IP-in-IP tunnels (docs/lab.md), so the cluster network is VXLAN here.
          extra: { network: { controlPlaneEndpoint: `${vip}:8443`, encapsulation: 'vxlan' } },
        });
        await writeFile(inventory, await readFile(path, 'utf8'));
        return lab.nodes.map((n) => `${n.name} ${n.address} (${(n.bootMs / 1000).toFixed(1)} s)`).join(', ');
      });
      const doctored = booted && (await step('doctor', 'Check the nodes: ferry doctor', async () => {
        const code = await ferry(['doctor', '-i', inventory, '--lock', files.installLock, '--out', join(work, 'doctor.json')], [0, 4]);
        const report = JSON.parse(await readFile(join(work, 'doctor.json'), 'utf8')) as { findings: { status: string; check: string; host?: string }[] };
        const count = (s: string) => report.findings.filter((f) => f.status === s).length;
        const fails = [...new Set(report.findings.filter((f) => f.status === 'fail').map((f) => f.check))];
        return `${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail${fails.length ? ` (${fails.join(', ')}: install fixes what it owns)` : ''}; exit ${code}`;
      }));
      if (doctored)
        await step('install', `Install: ferry install (${plan.run.length} phases${plan.skip.length ? `, ${plan.skip.length} skipped` : ''})`, async () => {
          const skipArgs = plan.skip.length > 0 ? ['--skip', plan.skip.map((s) => s.id).join(',')] : [];
          await ferry(['install', '-i', inventory, '--bundle', bundleDir, '--lock', files.installLock, '--state-dir', join(work, 'state'), ...skipArgs]);
          phases.ran = plan.run;
          phases.skipped = plan.skip;
          return `${plan.run.join(', ')} ran on ${DEMO_NODES.join(', ')}`;
        });
      else skip('install', 'ferry install on the nodes', 'an earlier step failed');
      if (lab && o.keep) {
        const first = lab.nodes[0]!;
        kept = {
          nodes: lab.nodes.map((n) => ({ name: n.name, address: n.address })), inventory,
          ssh: labSshArgv(lab, first.address, []).join(' '), down: 'ferry demo --down',
        };
        lab.keep();
      }
    } finally {
      const up = lab;
      if (up && !o.keep) await step('teardown', 'Tear the lab down (nodes, bridge, firewall table, files)', async () => (await up.stop(), 'nothing left running'));
    }
  }
  const summary = summarize(steps, phases, Math.round(performance.now() - started), kept);
  if (removeWork) await rm(work, { recursive: true, force: true });
  o.io.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
  return summary;
}
