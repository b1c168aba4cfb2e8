// Day two on lab nodes (2 control planes behind the VIP + 1 GPU worker, Debian 12 under systemd-nspawn, Kubernetes
// and the NVIDIA driver through the STAND-INs of test/stand-ins, the GPU a stand-in H100 PCI entry on w1): the user's
// path twice through the offline replica (site-bundle.ts: resolve --gpu h100 with w1's --kernel, bundle build from the
// shipped spec, verify) for Kubernetes 1.33 with the driver pinned to branch 595 and 1.34 with resolve's branch (620);
// `ferry install` from the first;
// 1.34 carried as a delta (`bundle build --since`, `bundle verify`, `bundle apply --onto` a copy of the 1.33 bundle),
// the delta directory itself refused as --bundle; `ferry upgrade --dry-run` from the applied bundle changes nothing; `ferry upgrade` stops at a drain a PodDisruptionBudget
// blocks, naming the node and leaving it cordoned, with the control planes already at the new version; run again with
// the budget still there, w1's sshd is killed while the drain waits on it (the trigger is w1's drain running on cp1,
// read through nsenter) and the budget is then deleted: the run fails naming w1, the control planes keep answering
// through the VIP; once sshd is back the same command installs w1's new driver branch and stops, w1 drained and
// cordoned, demanding a reboot it does not do (the new module cannot load over the old); after the operator's
// "reboot" (the stand-in's loaded-module record emptied, as a reboot empties /run) the same command finishes, w1
// uncordoned once nvidia-smi answers the new branch; a converged re-run runs only read-only
// commands; going back to the 1.33 bundle is refused before any change. Through every upgrade run a separate process
// asks the API through the VIP every 100 ms (support/poll-api.ts); the longest gap between answers is a figure. Then a certificate made to
// expire in 5 days fails `ferry certs check`, `ferry certs renew` renews it, and the API answers through the VIP.
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_CACHE, SHIPPED_SPEC, siteBundle, type GpuOptions, type SiteBundle, ferry } from '../install/support/site-bundle.ts';
import { auditRecords } from '../install/support/converged.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';

const NODES = ['cp1', 'cp2', 'w1'];
let lab: Lab;
let from: SiteBundle;
let to: SiteBundle;
let inventory: string;
let stateDir: string;
/** The 1.33 bundle copied, then the 1.34 delta applied onto it: what the admin host upgrades from. */
let upgraded: string;
let delta: string;
let vip: string;
const figures: string[] = [];
/** The 1.33 site stays on an older driver branch (an H100 is served by both); 1.34's lock takes resolve's choice. */
const OLD_DRIVER = '595.91.07';
let gpu: GpuOptions;
const smi = async () => (await lab.nodeExec('w1', ['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader'], { allowFailure: true })).stdout.trim();
/** Time spent in the upgrade runs that changed the cluster (the refused and dry runs not counted). */
let upgradeMs = 0;
/** Every API poll's longest gap through the VIP, by run. */
const apiGaps: Record<string, number> = {};

interface PollResult { startedAt: number; answers: number; failures: number; spanMs: number; longestGapMs: number; gaps: { atMs: number; ms: number }[] }
let poller: ResultPromise | undefined;
/** Starts support/poll-api.ts against the VIP with the admin host's admin.conf; the returned stop() gives its result. */
function pollApi(): () => Promise<PollResult> {
  const child = execa(process.execPath, [join(import.meta.dirname, 'support', 'poll-api.ts'), `https://${vip}:8443`, join(stateDir, 'admin.conf')], { reject: false });
  poller = child;
  return async () => {
    child.kill('SIGTERM');
    const r = await child;
    poller = undefined;
    if (!r.stdout) throw new Error(`poll-api printed nothing (exit ${r.exitCode}): ${String(r.stderr)}`);
    return JSON.parse(String(r.stdout)) as PollResult;
  };
}
/** Runs the upgrade with the API poll around it; records the run's time and its longest gap. */
async function upgradeWatched(label: string, watch?: () => Promise<void>) {
  const stop = pollApi();
  await sleep(500);
  const start = (await audit()).length;
  const [r] = await Promise.all([ferry(realRun()), watch?.()]);
  const poll = await stop();
  upgradeMs += r.ms;
  apiGaps[label] = poll.longestGapMs;
  // What changed the cluster just before and during each long gap (the audit's start times), to read the gaps by.
  const records = (await audit()).slice(start).filter((a) => a.readOnly !== true);
  const during = (g: { atMs: number; ms: number }) => records.filter((a) => {
    const t = Date.parse(a.time) - poll.startedAt;
    return t + a.durationMs >= g.atMs - 2000 && t <= g.atMs + g.ms;
  }).map((a) => `${a.host}: ${a.command.slice(0, 70)}`);
  figures.push(`API through the VIP during "${label}" (${r.ms} ms): ${poll.answers} answers, ${poll.failures} failed asks, longest gap ${poll.longestGapMs} ms; gaps > 0.5 s: ${JSON.stringify(poll.gaps.slice(0, 4).map((g) => ({ ...g, changing: during(g) })))}`);
  expect(poll.answers, label).toBeGreaterThan(0);
  return { ...r, poll };
}

const kubectl = (...args: string[]) => ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args];
const upgradeArgs = () => ['upgrade', '-i', inventory, '--bundle', upgraded, '--state-dir', stateDir];
// The stand-in cluster keeps its state in a JSON file on cp1, not in etcd: there is nothing for etcdctl to snapshot
// here (test/etcd/snapshot.lab.test.ts proves the snapshot against real etcd). The dry run still plans it.
const realRun = () => [...upgradeArgs(), '--skip', 'etcd-snapshot'];

interface NodeJson { metadata: { name: string }; spec: { unschedulable?: boolean }; status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] } }
async function nodes(): Promise<NodeJson[]> {
  const r = await lab.nodeExec('cp1', kubectl('get', 'nodes', '-o', 'json'));
  return (JSON.parse(r.stdout) as { items: NodeJson[] }).items;
}
const versions = async () => Object.fromEntries((await nodes()).map((n) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]));

const audit = () => auditRecords(stateDir);

async function apply(objects: object[]) {
  const r = await lab.nodeExec('cp1', kubectl('apply', '--server-side', '-f', '-'), { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  expect(r.exitCode, r.stderr).toBe(0);
}

beforeAll(async () => {
  let started = performance.now();
  lab = await startLab({ nodes: NODES });
  stateDir = join(lab.stateDir, 'ferry-state');
  vip = addressIn(lab.subnet, 100);
  figures.push(`lab up: ${Math.round(performance.now() - started)} ms`);
  // w1 is the GPU worker: its exact kernel goes to both builds (the lab kernel has no Debian headers package: the
  // replica serves a stand-in one), and a stand-in H100 sits where its kernel lists PCI devices.
  const kernel = (await lab.nodeExec('w1', ['uname', '-r'])).stdout.trim();
  gpu = { model: 'h100', kernels: [kernel], standInHeaders: [kernel] };
  from = await siteBundle(join(lab.stateDir, 'site-1.33'), { k8s: '1.33', gpu, pins: [`nvidia-driver=${OLD_DRIVER}`] });
  to = await siteBundle(join(lab.stateDir, 'site-1.34'), { k8s: '1.34', gpu });
  const pci = '/sys/bus/pci/devices';
  const dev = `${pci}/0000:18:00.0`;
  const mount = await lab.nodeExec('w1', ['sh', '-c', `mount -t tmpfs -o size=64k ferry-gpu-stand-in ${pci} && mkdir ${dev} && echo 0x10de > ${dev}/vendor && echo 0x2330 > ${dev}/device && echo 0x030200 > ${dev}/class`]);
  expect(mount.exitCode, mount.stderr).toBe(0);
  figures.push(`bundles: 1.33 ${from.reused ? 'reused' : `${from.timings.build} ms`}, 1.34 ${to.reused ? 'reused' : `${to.timings.build} ms`}`);
  inventory = await lab.writeInventory({
    roles: { cp1: ['control-plane'], cp2: ['control-plane'], w1: ['worker', 'gpu'] },
    extra: {
      network: { controlPlaneEndpoint: `${vip}:8443`, encapsulation: 'vxlan' },
      kubernetes: { allowEvenControlPlanes: true },
      upgrade: { maxUnavailableWorkers: 1, allowReboot: false, drainTimeoutSeconds: 10 },
    },
  });
  started = performance.now();
  const r = await ferry(['install', '-i', inventory, '--bundle', from.dir, '--state-dir', stateDir]);
  expect(r.code, r.err).toBe(0);
  figures.push(`install 1.33 (3 nodes): ${r.ms} ms`);
}, 1_500_000);

afterAll(async () => {
  if (poller?.pid) process.kill(poller.pid, 'SIGKILL');
  if (figures.length) console.log(`[upgrade] figures:\n  ${figures.join('\n  ')}`);
  await from?.replica.stop();
  await to?.replica.stop();
  await lab?.stop();
});

describe('ferry upgrade on lab nodes', () => {
  it('the installed cluster runs the first bundle\'s version', async () => {
    const v = `v${from.lock.stack.kubernetes}`;
    expect(await versions()).toEqual({ cp1: v, cp2: v, w1: v });
    expect(to.lock.stack.kubernetes.split('.')[1]).toBe(String(Number(from.lock.stack.kubernetes.split('.')[1]) + 1));
    // Two driver branches: the first bundle's on w1 now, the second's newer.
    expect(from.lock.stack.nvidiaDriver?.version).toBe(OLD_DRIVER);
    expect(Number(to.lock.stack.nvidiaDriver!.version.split('.')[0])).toBeGreaterThan(Number(OLD_DRIVER.split('.')[0]));
    expect(await smi()).toBe(`NVIDIA H100 80GB HBM3, ${OLD_DRIVER}`);
  });

  it('carries 1.34 as a delta since the 1.33 bundle: built, verified naming its base, applied onto a copy of the base', async () => {
    delta = join(lab.stateDir, 'delta-1.34');
    upgraded = join(lab.stateDir, 'bundle');
    await cp(from.dir, upgraded, { recursive: true });
    // The internet side: the 1.34 lock built from the shipped spec through the replica, carrying only what 1.33's lacks.
    const build = await ferry(['bundle', 'build', '--lock', to.lockFile, '--spec', SHIPPED_SPEC, ...gpu.kernels.flatMap((k) => ['--kernel', k]), '--mirrors', to.mirrors, '--out', delta, '--cache', BUILD_CACHE,
      '--sign-key', to.signKey, '--no-ferry-binary', '--quiet', '--since', join(from.dir, 'manifest.yaml')], { NGC_API_KEY: to.replica.ngcApiKey });
    expect(build.code, build.err).toBe(0);
    const verify = await ferry(['bundle', 'verify', delta, '--pubkey', to.pubkey]);
    expect(verify.code, verify.err).toBe(0);
    const apply = await ferry(['bundle', 'apply', delta, '--onto', upgraded, '--pubkey', to.pubkey]);
    expect(apply.code, apply.err).toBe(0);
    expect(await readFile(join(upgraded, 'manifest.yaml'), 'utf8')).toBe(await readFile(join(delta, 'manifest.yaml'), 'utf8'));
    figures.push(`delta 1.33 → 1.34: build ${build.ms} ms, verify ${verify.ms} ms, apply ${apply.ms} ms`);
  }, 600_000);

  it('refuses the delta directory itself as --bundle, with the apply command', async () => {
    const r = await ferry(['upgrade', '-i', inventory, '--bundle', delta, '--state-dir', stateDir]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is a delta bundle');
    expect(r.err).toContain(`ferry bundle apply ${delta} --onto BASE`);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const before = (await audit()).length;
    const r = await ferry([...upgradeArgs(), '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('dry run: nothing was changed');
    expect(r.out).toContain(`kubeadm upgrade apply v${to.lock.stack.kubernetes} --yes`);
    expect(r.out).toMatch(/drain w1 --ignore-daemonsets --delete-emptydir-data --timeout=10s/);
    expect(r.out).toContain('etcd snapshot, fetched to');
    // w1's new driver branch is named (its packages are planned on w1 once the new repository is there).
    expect(r.out).toContain(`the NVIDIA driver ${to.lock.stack.nvidiaDriver!.version} (branch ${to.lock.stack.nvidiaDriver!.branch.replace(/^R/, '')}) from the new bundle's repository`);
    expect((await audit()).length).toBe(before);
    const v = `v${from.lock.stack.kubernetes}`;
    expect(await versions()).toEqual({ cp1: v, cp2: v, w1: v });
    figures.push(`upgrade --dry-run: ${r.ms} ms`);
  }, 300_000);

  it('stops at a drain a PodDisruptionBudget blocks, naming the node and leaving it cordoned', async () => {
    const pause = from.lock.images.find((i) => /\/pause:/.test(i.ref))!.ref;
    await apply([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
        spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: pause }] } } } },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
    ]);
    const r = await upgradeWatched('control planes, then w1 stopped by the budget');
    expect(r.code, r.out + r.err).toBe(7);
    expect(r.err).toMatch(/phase upgrade-workers failed on 1 host\(s\):\n {2}w1: /);
    expect(r.err).toContain('disruption budget');
    const now = await nodes();
    expect(now.find((n) => n.metadata.name === 'w1')!.spec.unschedulable).toBe(true);
    const v = `v${to.lock.stack.kubernetes}`;
    expect(await versions()).toEqual({ cp1: v, cp2: v, w1: `v${from.lock.stack.kubernetes}` });
    figures.push(`upgrade stopped at w1's drain: ${r.ms} ms`);
  }, 900_000);

  it('sshd killed on w1 while the drain waits: the run fails naming w1, the control planes keep answering through the VIP', async () => {
    // The trigger is w1's own upgrade, seen from outside: its drain running on cp1 (the budget holds it there for
    // at least 5 s). Then w1's sshd and the sessions it holds are killed, and the budget goes, so the drain goes through
    // and the next step on w1 meets no sshd.
    let finished = false;
    let killedAt = -1;
    const started = performance.now();
    const watch = async () => {
      while (!finished) {
        const drain = await lab.nodeExec('cp1', ['pgrep', '-f', 'kubectl --kubeconfig /etc/kubernetes/admin.conf drain w1 '], { allowFailure: true });
        if (drain.exitCode === 0) {
          // Debian's ssh.service restarts on failure: the kill takes sshd and its sessions (ferry's open connection),
          // the stop right after cancels the restart, so w1 has no sshd until the operator starts it again.
          await lab.nodeExec('w1', ['sh', '-c', 'systemctl kill --signal=KILL ssh; systemctl stop ssh']);
          killedAt = Math.round(performance.now() - started);
          const del = await lab.nodeExec('cp1', kubectl('delete', '-f', '-'), { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' } }) });
          expect(del.exitCode, del.stderr).toBe(0);
          return;
        }
        await sleep(200);
      }
    };
    const r = await upgradeWatched('w1 losing its sshd', watch).finally(() => {
      finished = true;
    });
    expect(killedAt, `the drain of w1 was never seen running; ferry said: ${r.out}${r.err}`).toBeGreaterThan(0);
    // inactive, or failed when the stop found the killed unit still failed rather than restarted: either way no sshd.
    expect((await lab.nodeExec('w1', ['systemctl', 'is-active', 'ssh'], { allowFailure: true })).stdout.trim()).toMatch(/^(inactive|failed)$/);
    expect(r.code, r.out + r.err).toBe(7);
    expect(r.err).toMatch(/phase upgrade-workers failed on 1 host\(s\):\n {2}w1: /);
    expect(r.err).toContain('hint: fix the cause on w1, then run the same command again');
    // The others keep serving: the API answers through the VIP, both control planes Ready at the new version, w1 cordoned.
    const through = JSON.parse((await lab.nodeExec('cp1', kubectl('--server', `https://${vip}:8443`, 'get', 'nodes', '-o', 'json'))).stdout) as { items: NodeJson[] };
    const byName = new Map(through.items.map((n) => [n.metadata.name, n]));
    for (const cp of ['cp1', 'cp2']) {
      expect(byName.get(cp)?.status.conditions.find((c) => c.type === 'Ready')?.status, cp).toBe('True');
      expect(byName.get(cp)?.status.nodeInfo.kubeletVersion, cp).toBe(`v${to.lock.stack.kubernetes}`);
    }
    expect(byName.get('w1')?.spec.unschedulable).toBe(true);
    figures.push(`sshd killed on w1 ${killedAt} ms into the run; the run failed after ${r.ms} ms`);
  }, 900_000);

  it('with sshd back the same command installs w1\'s new driver branch and stops there: drained, cordoned, a reboot demanded and not done', async () => {
    await lab.nodeExec('w1', ['systemctl', 'start', 'ssh']);
    const start = (await audit()).length;
    const r = await upgradeWatched('w1\'s new driver branch');
    expect(r.code, r.out + r.err).toBe(7);
    expect(r.err).toMatch(/phase upgrade-workers failed on 1 host\(s\):\n {2}w1: /);
    expect(r.err).toContain(`w1: the NVIDIA driver of branch ${to.lock.stack.nvidiaDriver!.branch.replace(/^R/, '')} is installed but the running module is the old one; w1 is drained and stays cordoned until it is rebooted`);
    expect(r.err).toContain('reboot w1 (or set upgrade.allowReboot: true in the inventory)');
    // The new branch's packages are in, its nvidia-smi cannot talk to the old module; nothing rebooted w1.
    const records = (await audit()).slice(start);
    expect(records.filter((a) => a.host === 'w1' && /\breboot\b/.test(a.command))).toEqual([]);
    expect(records.some((a) => a.host === 'w1' && / purge nvidia-driver-pinning-595$/.test(a.command) && a.exitCode === 0)).toBe(true);
    expect(await smi()).toContain('Driver/library version mismatch');
    const w1 = (await nodes()).find((n) => n.metadata.name === 'w1')!;
    expect(w1.spec.unschedulable).toBe(true);
    figures.push(`w1's driver ${OLD_DRIVER} → ${to.lock.stack.nvidiaDriver!.version}, stopped for the reboot: ${r.ms} ms`);
  }, 900_000);

  it('after the operator\'s reboot the same command finishes: w1 uncordoned once nvidia-smi answers the new branch, every node at the new version', async () => {
    // What a reboot does to the stand-in driver: /run is emptied, so the next nvidia-smi loads the installed module.
    await lab.nodeExec('w1', ['rm', '-f', '/run/ferry-stand-in/nvidia-loaded']);
    const r = await upgradeWatched('after w1\'s reboot');
    expect(r.code, r.out + r.err).toBe(0);
    expect(await smi()).toBe(`NVIDIA H100 80GB HBM3, ${to.lock.stack.nvidiaDriver!.version}`);
    const v = `v${to.lock.stack.kubernetes}`;
    expect(await versions()).toEqual({ cp1: v, cp2: v, w1: v });
    for (const n of await nodes()) {
      expect(n.spec.unschedulable ?? false).toBe(false);
      expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    // web's pod (its image from the local registry, through the mirrors) runs again once w1's drain let it move.
    let phases: string[] = [];
    for (let i = 0; i < 60 && phases.join() !== 'Running'; i++) {
      if (i > 0) await new Promise((done) => setTimeout(done, 1000));
      const pods = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'pods', '-n', 'default', '-o', 'json'))).stdout) as { items: { metadata: { labels?: Record<string, string> }; status: { phase: string } }[] };
      phases = pods.items.filter((p) => p.metadata.labels?.app === 'web').map((p) => p.status.phase);
    }
    expect(phases).toEqual(['Running']);
    // The new images came from the local registry the upgrade seeded (kubeadm upgrade needs them there).
    const api = to.lock.images.find((i) => /\/kube-apiserver:/.test(i.ref))!.ref;
    const pulled = await lab.nodeExec('w1', ['ctr', '-n', 'k8s.io', 'images', 'pull', '--hosts-dir', '/etc/containerd/certs.d', api], { allowFailure: true });
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    figures.push(`upgrade resumed to the end: ${r.ms} ms`);
    figures.push(`upgrade of the lab cluster, the four runs that changed it: ${upgradeMs} ms; longest API gap through the VIP: ${Math.max(...Object.values(apiGaps))} ms`);
  }, 900_000);

  it('a converged re-run changes nothing (only read-only commands)', async () => {
    const start = (await audit()).length;
    const r = await ferry(realRun());
    expect(r.code, r.err).toBe(0);
    const records = (await audit()).slice(start);
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((a) => a.readOnly !== true)).toEqual([]);
    figures.push(`converged upgrade re-run: ${r.ms} ms`);
  }, 300_000);

  it('refuses going back to the 1.33 bundle before any change (exit 7, each refusal with its fix, only reads)', async () => {
    const start = (await audit()).length;
    const r = await ferry(['upgrade', '-i', inventory, '--bundle', from.dir, '--state-dir', stateDir]);
    expect(r.code, r.err).toBe(7);
    expect(r.err).toMatch(/phase upgrade-gate failed[\s\S]*the upgrade is refused; nothing was changed:\n {2,}downgrade: /);
    expect(r.err).toContain('ferry does not downgrade');
    expect((await audit()).slice(start).filter((a) => a.readOnly !== true)).toEqual([]);
    const v = `v${to.lock.stack.kubernetes}`;
    expect(await versions()).toEqual({ cp1: v, cp2: v, w1: v });
  }, 120_000);
});

describe('ferry certs renew on lab nodes', () => {
  it('a certificate 5 days from expiry fails certs check; certs renew renews it; the API answers through the VIP', async () => {
    const resign = 'cd /etc/kubernetes/pki && openssl x509 -x509toreq -in apiserver.crt -signkey apiserver.key -copy_extensions copyall -out /tmp/req 2>/dev/null && ' +
      'openssl x509 -req -in /tmp/req -CA ca.crt -CAkey ca.key -days 5 -copy_extensions copyall -out apiserver.crt 2>/dev/null';
    const short = await lab.nodeExec('cp2', ['sh', '-c', resign]);
    expect(short.exitCode, short.stderr).toBe(0);
    const check = await ferry(['certs', 'check', '-i', inventory]);
    expect(check.code, check.out).toBe(4);
    const started = performance.now();
    const r = await ferry(['certs', 'renew', '-i', inventory, '--state-dir', stateDir]);
    expect(r.code, r.out + r.err).toBe(0);
    figures.push(`certs renew: ${Math.round(performance.now() - started)} ms`);
    const again = await ferry(['certs', 'check', '-i', inventory]);
    expect(again.code, again.out).toBe(0);
    const ready = await lab.nodeExec('cp1', kubectl('--server', `https://${vip}:8443`, 'get', '--raw', '/readyz'));
    expect(ready.stdout.trim()).toBe('ok');
    // The admin host's admin.conf was fetched again.
    expect((await readFile(join(stateDir, 'admin.conf'), 'utf8'))).toContain('client-certificate-data');
  }, 600_000);
});
