// The day-two STAND-INS on three lab nodes (cp1, cp2, w1) after a stand-in init and joins: certificate expiry read by
// ferry itself (`ferry certs check`, doctor's cert-expiry) and renewed by `kubeadm certs renew`; `kubeadm upgrade`
// refusing what real kubeadm refuses (target above kubeadm, two minors, `upgrade node` before `apply`, apply on a
// worker, a missing image), a kubelet newer than the API server going NotReady, then apply on cp1 and `upgrade node`
// on cp2 and w1; `kubectl drain` stopped by a PodDisruptionBudget with kubectl's words, then passing once it allows.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckExpiration } from '../../src/certs/expiry.ts';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { standInDebs } from './debs.ts';
import { caCertHash, CALICO_IMAGE, initConfig, joinConfig, KUBERNETES, REPO, listItems, startStandInLab, type StandInLab, until } from './stand-in-lab.ts';

const TOKEN = 'abcdef.0123456789abcdef';
const KEY = 'a1'.repeat(32);
const CONFIG = '/etc/ferry/kubeadm.yaml';
const NEXT = '1.34.1';
let s: StandInLab;
let inventory: string;

const kubeadm = (node: string, args: string[]) => s.exec(node, ['kubeadm', ...args]);
const sh = (node: string, script: string, input?: string) => s.exec(node, ['sh', '-c', script], input);

const nodes = () => listItems(s, 'nodes');
const pods = () => listItems(s, 'pods');

const ready = (n: any) => n.status.conditions.find((c: any) => c.type === 'Ready');

async function ferry(args: string[]) {
  const io = memoryIo();
  const code = await run(args, { io, now: () => new Date(), cwd: process.cwd(), env: {} });
  return { code, out: io.out(), err: io.err() };
}

async function apply(objects: object[]) {
  await sh('cp1', 'cat > /root/objects.yaml', objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  const r = await s.kubectl('cp1', ['apply', '--server-side', '--force-conflicts', '-f', '/root/objects.yaml']);
  expect(r.exitCode, r.stderr).toBe(0);
}

beforeAll(async () => {
  s = await startStandInLab();
  inventory = await s.lab.writeInventory({ roles: { cp1: ['control-plane'], cp2: ['control-plane'], w1: ['worker'] }, extra: { kubernetes: { allowEvenControlPlanes: true } } });
  const next = await standInDebs(NEXT);
  for (const n of ['cp1', 'cp2', 'w1'])
    for (const f of next.files) expect((await sh(n, `mkdir -p /root/next && base64 -d > /root/next/${f}`, (await readFile(join(next.dir, f))).toString('base64'))).exitCode).toBe(0);
  await sh('cp1', `mkdir -p /etc/ferry && cat > ${CONFIG}`, initConfig(s, 'cp1', TOKEN, KEY));
  const init = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs']);
  expect(init.exitCode, init.stderr).toBe(0);
  const caHash = caCertHash((await s.exec('cp1', ['cat', '/etc/kubernetes/pki/ca.crt'])).stdout);
  await sh('cp2', `mkdir -p /etc/ferry && cat > ${CONFIG}`, joinConfig(s, 'cp2', { token: TOKEN, caCertHashes: [caHash], certificateKey: KEY }));
  expect((await kubeadm('cp2', ['join', '--config', CONFIG])).exitCode).toBe(0);
  await sh('w1', `mkdir -p /etc/ferry && cat > ${CONFIG}`, joinConfig(s, 'w1', { token: TOKEN, caCertHashes: [caHash] }));
  expect((await kubeadm('w1', ['join', '--config', CONFIG])).exitCode).toBe(0);
  // calico-node (a DaemonSet on every node) makes the nodes Ready; then web runs one replica per node (replicas stay
  // where they were placed, so web is applied once all three are Ready).
  await apply([
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' },
      spec: { template: { metadata: { labels: { 'k8s-app': 'calico-node' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'calico-node', image: CALICO_IMAGE }] } } } },
  ]);
  await until('3 Ready nodes', async () => ((await nodes()).every((x) => ready(x).status === 'True') ? true : undefined), 60);
  await apply([
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }], containers: [{ name: 'web', image: CALICO_IMAGE }] } } } },
  ]);
  const web = await until('3 Running web pods', async () => {
    const x = (await pods()).filter((p) => p.metadata.labels?.app === 'web' && p.status.phase === 'Running');
    return x.length === 3 ? x : undefined;
  }, 60);
  expect(web.map((p) => p.spec.nodeName).sort()).toEqual(['cp1', 'cp2', 'w1']);
}, 300_000);

afterAll(async () => {
  await s?.stop();
});

describe('certificates', () => {
  it('kubeadm certs check-expiration prints every certificate from the real files; super-admin.conf only on cp1', async () => {
    const cp1 = await kubeadm('cp1', ['certs', 'check-expiration']);
    expect(cp1.exitCode, cp1.stderr).toBe(0);
    const entries = parseCheckExpiration(cp1.stdout);
    expect(entries.filter((e) => e.kind === 'certificate' && e.notAfter)).toHaveLength(11);
    const apiserverEnd = (await sh('cp1', 'openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt')).stdout.trim();
    expect(entries.find((e) => e.name === 'apiserver')!.notAfter!.getTime()).toBe(Math.floor(Date.parse(apiserverEnd.replace('notAfter=', '')) / 60_000) * 60_000);
    const cp2 = parseCheckExpiration((await kubeadm('cp2', ['certs', 'check-expiration'])).stdout);
    expect(cp2.find((e) => e.name === 'super-admin.conf')!.notAfter).toBeUndefined();
  });

  it('ferry certs check passes both control planes over SSH', async () => {
    const r = await ferry(['certs', 'check', '-i', inventory, '--json']);
    expect(r.code, r.err + r.out).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.controlPlanes.map((c: any) => [c.host, c.source, c.status])).toEqual([['cp1', 'kubeadm', 'pass'], ['cp2', 'kubeadm', 'pass']]);
  });

  it('fails (exit 4) when cp2\'s apiserver certificate has 5 days left, doctor agrees, and kubeadm certs renew fixes it', async () => {
    const shorten = 'cd /etc/kubernetes/pki && openssl x509 -x509toreq -in apiserver.crt -key apiserver.key -copy_extensions copyall -out /tmp/req 2>/dev/null && ' +
      'openssl x509 -req -in /tmp/req -CA ca.crt -CAkey ca.key -days 5 -copy_extensions copyall -out apiserver.crt 2>/dev/null';
    expect((await sh('cp2', shorten)).exitCode).toBe(0);
    const failing = await ferry(['certs', 'check', '-i', inventory, '--json']);
    expect(failing.code).toBe(4);
    const cp2 = JSON.parse(failing.out).controlPlanes.find((c: any) => c.host === 'cp2');
    expect(cp2.certificates.find((c: any) => c.name === 'apiserver')).toMatchObject({ status: 'fail', daysLeft: 4 });
    const doctor = await ferry(['doctor', '-i', inventory, '--json', '--only', 'cert-expiry']);
    expect(doctor.code).toBe(4);
    const findings = JSON.parse(doctor.out).findings.filter((f: any) => f.check === 'cert-expiry');
    expect(findings.map((f: any) => `${f.host} ${f.status}`)).toEqual(['cp1 pass', 'cp2 fail']);
    expect(findings[1].message).toMatch(/^apiserver: expires \S+ \(4 days left\)$/);
    const renewed = await kubeadm('cp2', ['certs', 'renew', 'apiserver']);
    expect(renewed.exitCode, renewed.stderr).toBe(0);
    expect(renewed.stdout).toContain('certificate for serving the Kubernetes API renewed');
    expect((await ferry(['certs', 'check', '-i', inventory])).code).toBe(0);
    expect((await kubeadm('cp2', ['certs', 'renew', 'apiserver', '--csr-only'])).exitCode).toBe(2);
  });
});

describe('kubeadm upgrade', () => {
  it('refuses a target above its own minor, and apply on a worker', async () => {
    const above = await kubeadm('cp1', ['upgrade', 'apply', `v${NEXT}`, '--yes']);
    expect(above.exitCode).toBe(1);
    expect(above.stderr).toContain(`Specified version to upgrade to "v${NEXT}" is at least one minor release higher than the kubeadm minor release (34 > 33). Such an upgrade is not supported`);
    const worker = await kubeadm('w1', ['upgrade', 'apply', `v${KUBERNETES}`, '--yes']);
    expect(worker.exitCode).toBe(1);
    expect(worker.stderr).toContain('couldn\'t create a Kubernetes client from file "/etc/kubernetes/admin.conf"');
    expect((await kubeadm('cp1', ['upgrade', 'apply', `v${NEXT}`])).exitCode).toBe(2);
  });

  it('with the new kubeadm: refuses skipping a minor, and upgrade node before apply', async () => {
    for (const n of ['cp1', 'cp2', 'w1']) expect((await sh(n, `dpkg -i /root/next/kubeadm_${NEXT}-1.1_amd64.deb >/dev/null`)).exitCode).toBe(0);
    const skip = await kubeadm('cp1', ['upgrade', 'apply', 'v1.35.0', '--yes']);
    expect(skip.exitCode).toBe(1);
    expect(skip.stderr).toContain('the version argument is invalid due to these fatal errors');
    expect(skip.stderr).toContain('Specified version to upgrade to "v1.35.0" is too high; kubeadm can upgrade only 1 minor version at a time');
    const early = await kubeadm('cp2', ['upgrade', 'node']);
    expect(early.exitCode).toBe(1);
    expect(early.stderr).toContain(`run "kubeadm upgrade apply v${NEXT}" on the first control plane`);
    const plan = await kubeadm('cp1', ['upgrade', 'plan']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`kubeadm upgrade apply v${NEXT}`);
  });

  it('marks a kubelet newer than the API server NotReady (version skew policy)', async () => {
    expect((await sh('w1', `dpkg -i /root/next/kubelet_${NEXT}-1.1_amd64.deb >/dev/null 2>&1; systemctl restart kubelet`)).exitCode).toBe(0);
    const w1 = await until('w1 NotReady for version skew', async () => {
      const n = (await nodes()).find((x) => x.metadata.name === 'w1');
      return ready(n).reason === 'StandInVersionSkew' ? n : undefined;
    });
    expect(ready(w1).message).toBe(`kubelet v${NEXT} is newer than kube-apiserver v${KUBERNETES}: the version skew policy does not allow it`);
  });

  it('refuses apply while the new images are missing, changing no manifest; then upgrades cp1, cp2 and w1', async () => {
    const before = (await sh('cp1', 'sha256sum /etc/kubernetes/manifests/*')).stdout;
    const missing = await kubeadm('cp1', ['upgrade', 'apply', `v${NEXT}`, '--yes']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`[ERROR ImagePull]: failed to pull image ${REPO}/kube-apiserver:v${NEXT}`);
    expect((await sh('cp1', 'sha256sum /etc/kubernetes/manifests/*')).stdout).toBe(before);
    for (const n of ['cp1', 'cp2'])
      for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
        expect((await sh(n, `ctr -n k8s.io images tag ${REPO}/kube-apiserver:v${KUBERNETES} ${REPO}/${c}:v${NEXT} >/dev/null`)).exitCode).toBe(0);
    const applied = await kubeadm('cp1', ['upgrade', 'apply', `v${NEXT}`, '--yes']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v${NEXT}".`);
    const version = JSON.parse((await s.kubectl('cp1', ['--server', `https://${s.address('cp1')}:6443`, 'version', '-o', 'json'])).stdout);
    expect(version.serverVersion.gitVersion).toBe(`v${NEXT}`);
    const node = await kubeadm('cp2', ['upgrade', 'node']);
    expect(node.exitCode, node.stderr).toBe(0);
    const cp2 = JSON.parse((await s.kubectl('cp1', ['--server', `https://${s.address('cp2')}:6443`, 'version', '-o', 'json'])).stdout);
    expect(cp2.serverVersion.gitVersion).toBe(`v${NEXT}`);
    const worker = await kubeadm('w1', ['upgrade', 'node']);
    expect(worker.exitCode, worker.stderr).toBe(0);
    expect(worker.stdout).toContain('upgrade the kubelet package');
    await until('w1 Ready again at the new version', async () => {
      const n = (await nodes()).find((x) => x.metadata.name === 'w1');
      return ready(n).status === 'True' && n.status.nodeInfo.kubeletVersion === `v${NEXT}` ? n : undefined;
    });
  }, 180_000);
});

describe('kubectl cordon, drain and uncordon', () => {
  const webOn = async (node: string) => (await pods()).filter((p) => p.metadata.labels?.app === 'web' && p.spec.nodeName === node);

  it('refuses DaemonSet pods without --ignore-daemonsets, as kubectl does', async () => {
    const r = await s.kubectl('cp1', ['drain', 'w1', '--timeout=10s']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('node/w1 cordoned');
    expect(r.stderr).toMatch(/error: unable to drain node "w1" due to error: cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/calico-node-[0-9a-f]{5}, continuing command\.\.\./);
    expect((await s.kubectl('cp1', ['uncordon', 'w1'])).stdout.trim()).toBe('node/w1 uncordoned');
  });

  it('stops at a PodDisruptionBudget with kubectl\'s message until --timeout, leaving the node cordoned and the pod in place', async () => {
    await apply([{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } } }]);
    const [pod] = await webOn('w1');
    const started = Date.now();
    const r = await s.kubectl('cp1', ['drain', 'w1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=12s']);
    expect(r.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(r.stderr).toContain(`error when evicting pods/"${pod.metadata.name}" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`);
    expect(r.stderr).toContain(`error when evicting pods/"${pod.metadata.name}" -n "default": global timeout reached: 12s`);
    expect(r.stderr).toMatch(/Warning: ignoring DaemonSet-managed Pods: kube-system\/calico-node-/);
    expect((await nodes()).find((n) => n.metadata.name === 'w1').spec.unschedulable).toBe(true);
    expect((await webOn('w1')).map((p) => p.metadata.name)).toEqual([pod.metadata.name]);
  }, 60_000);

  it('drains once the budget allows it: the pod moves to an uncordoned node; uncordon makes w1 schedulable', async () => {
    await apply([{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } }]);
    const [pod] = await webOn('w1');
    const r = await s.kubectl('cp1', ['drain', 'w1', '--ignore-daemonsets', '--timeout=30s']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('node/w1 already cordoned');
    expect(r.stdout).toContain(`pod/${pod.metadata.name} evicted`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('node/w1 drained');
    const moved = await until('the evicted replica running elsewhere', async () => {
      const p = (await pods()).find((x) => x.metadata.name === pod.metadata.name && x.status.phase === 'Running');
      return p && p.spec.nodeName !== 'w1' ? p : undefined;
    });
    expect(['cp1', 'cp2']).toContain(moved.spec.nodeName);
    expect(await webOn('w1')).toEqual([]);
    expect((await s.kubectl('cp1', ['uncordon', 'w1'])).stdout.trim()).toBe('node/w1 uncordoned');
    expect((await s.kubectl('cp1', ['uncordon', 'w1'])).stdout.trim()).toBe('node/w1 already uncordoned');
  }, 60_000);
});
