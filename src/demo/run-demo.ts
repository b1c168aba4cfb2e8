// `ferry demo`: the main job on a built-in default, end to end on this machine, walking the README's path. Resolve
// the README's example; resolve a lock for Debian 12 lab nodes; start the offline replica of the upstream world
// (src/replica) on loopback; build the bundle from the SHIPPED spec bundles/gpu-cluster.yaml through it (only its
// --mirrors file differs from a site), sign and verify it; boot 3 lab nodes, run doctor and install on them
// (skipping, by id and with the reason, the phases that need real Kubernetes), delete an image from a node and pull
// it back from the local registry; tear everything down. Each step is a real ferry command run in-process.
import { tmpdir } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadYamlFile } from '../config/load.ts';
import { Lock } from '../config/lock.ts';
import { playbookPhases } from '../config/playbook.ts';
import { readPlaybook } from '../install/playbooks.ts';
import type { Io } from '../cli/io.ts';
import { labSshArgv, startLab, type Lab } from '../lab/lab.ts';
import { labMachineFacts, missingLabNeeds } from '../lab/needs.ts';
import { CACHE_DIR, ensureBaseRootfs } from '../lab/rootfs.ts';
import { addressIn } from '../lab/subnet.ts';
import { labPhasePlan } from './lab-phases.ts';
import { replicaRuntimeVersions } from '../replica/content.ts';
import { acceptedRuncRisks, labResolveRequest } from '../replica/lab-lock.ts';
import { startReplica, type Replica } from '../replica/replica.ts';
import { CONTAINERD_CERTS_DIR } from '../render/containerd-hosts.ts';
import { productFile } from '../ship/embedded.ts';
import { NO_KUBE_PACKAGES } from './lab-phases.ts';
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

/** Runs one ferry command silently and returns its --json output (resolve answers a refusal with its conflicts). */
async function captureJson(o: DemoOptions, argv: string[]): Promise<unknown> {
  const out: string[] = [];
  await o.ferry(argv, { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true } });
  return JSON.parse(out.join('') || '{}');
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

  let replica: Replica | undefined;
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
  const files = { lock: join(work, 'ferry.lock.yaml'), spec: join(work, 'gpu-cluster.yaml'), mirrors: join(work, 'mirrors.yaml'), keys: join(work, 'keys') };
  let lock: Lock | undefined;
  if (example && !labWhy)
    await step('node-image', 'Lab node image (Debian 12 by debootstrap from this machine\'s apt mirror; cached)', async () => (await ensureBaseRootfs()).dir);
  const ready = example && !labWhy && steps.at(-1)?.status === 'ok';
  if (ready)
    await step('lock', 'Resolve for the lab nodes: Debian 12 with the runtime the replica carries', async () => {
      const runtime = await replicaRuntimeVersions();
      const request = labResolveRequest(runtime, example!.stack.kubernetes.split('.').slice(0, 2).join('.'));
      const refused = await captureJson(o, [...request, '--json']);
      await ferry([...request, ...acceptedRuncRisks((refused as { conflicts?: { rules: string[] }[] }).conflicts ?? []), '--out', files.lock]);
      lock = await loadYamlFile(files.lock, Lock);
      return `containerd ${lock.stack.cri.version} and runc ${lock.stack.runc} pinned (runc's floors accepted by name: Debian 12's runc is all a lab node can run)`;
    });
  const served = lock !== undefined && (await step('replica', 'Start the offline replica of the upstream world on loopback (Docker, pkgs.k8s.io, GitHub, registries)', async () => {
    replica = await startReplica({ kubernetesMinor: lock!.stack.kubernetes.split('.').slice(0, 2).join('.'), images: lock!.images.map((i) => i.ref) });
    await replica.mirrorsFile(files.mirrors);
    await writeFile(files.spec, await productFile('bundles/gpu-cluster.yaml'));
    return `${replica.origin}; ${lock!.images.length} images; no Kubernetes packages (${NO_KUBE_PACKAGES})`;
  }));
  const built = served &&
    (await step('bundle', 'Build the bundle from the shipped spec: ferry bundle build --spec bundles/gpu-cluster.yaml --mirrors', async () => {
      await ferry(['key', 'generate', '--out', files.keys]);
      await ferry(['bundle', 'build', '--lock', files.lock, '--spec', files.spec, '--mirrors', files.mirrors, '--out', bundleDir, '--cache', join(CACHE_DIR, 'demo-bundle-cache'), '--sign-key', join(files.keys, 'ferry.key'), '--partial']);
      return bundleDir;
    })) &&
    (await step('verify', 'Verify it: ferry bundle verify --pubkey', async () => {
      await ferry(['bundle', 'verify', bundleDir, '--pubkey', join(files.keys, 'ferry.pub')]);
      return 'every checksum and the signature match';
    }));
  if (labWhy) for (const [id, title] of [['lock', 'Resolve for the lab nodes'], ['replica', 'The upstream replica'], ['bundle', 'Build the bundle'], ['verify', 'Verify it']] as const) skip(id, title, labWhy);

  let lab: Lab | undefined;
  let kept: DemoSummary['kept'];
  // The replica is stopped whatever happens below: its servers would keep the process alive after an error.
  try {
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
          const code = await ferry(['doctor', '-i', inventory, '--lock', files.lock, '--out', join(work, 'doctor.json')], [0, 4]);
          const report = JSON.parse(await readFile(join(work, 'doctor.json'), 'utf8')) as { findings: { status: string; check: string; host?: string }[] };
          const count = (s: string) => report.findings.filter((f) => f.status === s).length;
          const fails = [...new Set(report.findings.filter((f) => f.status === 'fail').map((f) => f.check))];
          return `${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail${fails.length ? ` (${fails.join(', ')}: install fixes what it owns)` : ''}; exit ${code}`;
        }));
        if (doctored)
          await step('install', `Install: ferry install (${plan.run.length} phases${plan.skip.length ? `, ${plan.skip.length} skipped` : ''})`, async () => {
            const skipArgs = plan.skip.length > 0 ? ['--skip', plan.skip.map((s) => s.id).join(',')] : [];
            await ferry(['install', '-i', inventory, '--bundle', bundleDir, '--state-dir', join(work, 'state'), ...skipArgs]);
            phases.ran = plan.run;
            phases.skipped = plan.skip;
            return `${plan.run.join(', ')} ran on ${DEMO_NODES.join(', ')}`;
          });
        else skip('install', 'ferry install on the nodes', 'an earlier step failed');
        if (steps.at(-1)?.id === 'install' && steps.at(-1)?.status === 'ok')
          await step('gc', 'Image GC cannot cause an outage: delete an image from a node\'s containerd, pull it back from the local registry', async () => {
            const pause = lock!.images.find((i) => /\/pause:/.test(i.ref))!.ref;
            const node = DEMO_NODES[0];
            const ctr = (...args: string[]) => lab!.nodeExec(node, ['ctr', '--namespace', 'k8s.io', ...args]);
            await ctr('images', 'pull', '--hosts-dir', CONTAINERD_CERTS_DIR, pause);
            await ctr('images', 'rm', pause);
            const t = performance.now();
            await ctr('images', 'pull', '--hosts-dir', CONTAINERD_CERTS_DIR, pause);
            const listed = (await ctr('images', 'ls', '-q')).stdout.split('\n');
            if (!listed.includes(pause)) throw new Error(`${pause} is not back in ${node}'s containerd`);
            return `${pause} deleted on ${node} and pulled again by its upstream name from the local registry in ${Math.round(performance.now() - t)} ms (the node has no route out)`;
          });
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
  } finally {
    await replica?.stop();
  }
  const summary = summarize(steps, phases, Math.round(performance.now() - started), kept);
  if (removeWork) await rm(work, { recursive: true, force: true });
  o.io.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
  return summary;
}
