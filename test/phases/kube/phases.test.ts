// The Kubernetes phases against strict scripted hosts (the exact kubeadm/kubectl/apt commands of the stand-in
// contract, read-only where they only read): packages, init, the control-plane joins with the two-hour
// certificate logic on an injected clock, worker batches, verify, the CNI and its refusal of other CNIs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateLayout } from '../../../src/state/layout.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../../src/bundle/manifest.ts';
import { cniPhase } from '../../../src/phases/cni.ts';
import { joinControlPlanesPhase } from '../../../src/phases/join-control-planes.ts';
import { joinWorkersPhase } from '../../../src/phases/join-workers.ts';
import { readUploadTime, writeUploadTime } from '../../../src/phases/kube/admin-state.ts';
import { caCertHash } from '../../../src/phases/kube/join-secrets.ts';
import { kubeadmInitPhase } from '../../../src/phases/kubeadm-init.ts';
import { kubernetesPackagesPhase, planKubePackages, type KubePackagesSeen } from '../../../src/phases/kubernetes-packages.ts';
import { debianFamily } from '../../../src/phases/os/debian.ts';
import { elFamily } from '../../../src/phases/os/el.ts';
import { describeStep } from '../../../src/phases/step.ts';
import { ReadOnlyHost } from '../../../src/hosts/read-only.ts';
import type { AnyPhase, PhaseContext } from '../../../src/phases/phase.ts';
import { planPlaybook, runPhases } from '../../../src/phases/runner.ts';
import { phaseRegistry } from '../../../src/phases/registry.ts';
import { verifyPhase } from '../../../src/phases/verify.ts';
import { FakeHost, type Expectation } from '../../support/fake-host.ts';
import { fixture as phaseFixture } from '../fixtures.ts';
import { phaseContext } from '../phase-context.ts';

const TOKEN = 'abcdef.0123456789abcdef';
const KEY = '0123456789abcdef'.repeat(4);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
let dir: string;
let caPem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-kube-phases-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=kubernetes'], { stdio: 'ignore' });
  caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeContext(hosts: FakeHost[], options: { now?: () => Date; name?: string } = {}): PhaseContext {
  const ctx = phaseContext('debian');
  const stateDir = join(dir, options.name ?? String(Math.random()).slice(2));
  mkdirSync(stateDir, { recursive: true });
  ctx.state.join = { token: TOKEN, certificateKey: KEY };
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return { ...ctx, layout: new StateLayout(stateDir), ...(options.now ? { now: options.now } : {}), hostFor: (n) => byName.get(n) ?? new FakeHost(n) };
}
const target = (ctx: PhaseContext, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });
const staged = (name: string, path: string): Expectation => ({ command: `install -D -m 600 /var/lib/ferry/staging/${name} ${path} && rm -f /var/lib/ferry/staging/${name}`, readOnly: false });
const TOKEN_LIST = 'kubeadm token list --kubeconfig /etc/kubernetes/admin.conf -o json';
const listed = (...tokens: string[]) => tokens.map((t) => `{\n    "kind": "BootstrapToken",\n    "token": "${t}"\n}\n`).join('');

describe('kubernetes-packages', () => {
  const APT = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0';
  const seen = (over: Partial<KubePackagesSeen>): KubePackagesSeen => ({ family: debianFamily, version: '1.33.4', wrong: [], unheld: [], kubeletEnabled: true, ...over });
  it.each<{ name: string; seen: KubePackagesSeen; steps: string[] }>([
    {
      name: 'a fresh Debian node: install at the pkgs.k8s.io version, hold, enable kubelet',
      seen: seen({ wrong: ['kubeadm', 'kubelet', 'kubectl'], unheld: ['kubeadm', 'kubelet', 'kubectl'], kubeletEnabled: false }),
      steps: [`${APT} install --no-install-recommends kubeadm=1.33.4-1.1 kubelet=1.33.4-1.1 kubectl=1.33.4-1.1`, 'apt-mark hold kubeadm kubelet kubectl', 'systemctl enable kubelet'],
    },
    { name: 'one at another version: all three installed again, still held', seen: seen({ wrong: ['kubelet'] }), steps: [`${APT} install --no-install-recommends kubeadm=1.33.4-1.1 kubelet=1.33.4-1.1 kubectl=1.33.4-1.1`] },
    { name: 'one unheld: the hold again', seen: seen({ unheld: ['kubectl'] }), steps: ['apt-mark hold kubeadm kubelet kubectl'] },
    {
      name: 'EL: the exact build pinned by the install, no hold',
      seen: seen({ family: elFamily, wrong: ['kubeadm'], kubeletEnabled: false }),
      steps: ['dnf -y -q --disablerepo=* --enablerepo=ferry install kubeadm-1.33.4-150500.1.1 kubelet-1.33.4-150500.1.1 kubectl-1.33.4-150500.1.1', 'systemctl enable kubelet'],
    },
    { name: 'at the version, held, kubelet enabled: nothing', seen: seen({}), steps: [] },
  ])('$name', ({ seen: s, steps }) => {
    const planned = planKubePackages(s);
    expect(planned.map(describeStep)).toEqual(steps);
    for (const step of planned) if (step.kind === 'packages') expect(step.phase).toBe('kubernetes-packages');
  });

  it('sees the versions, the holds and kubelet, reading only', async () => {
    const host = new FakeHost('gpu-1', [
      { command: /^dpkg-query -W -f '\$\{Package\} \$\{Version\} \$\{db:Status-Abbrev\}\n' kubeadm kubelet kubectl$/, stdout: 'kubeadm 1.33.4-1.1 hi \nkubectl 1.33.3-1.1 ii \nkubelet 1.33.4-1.1 rc \n', readOnly: true },
      { command: 'apt-mark showhold', stdout: 'kubeadm\nkubelet\n', readOnly: true },
      { command: 'systemctl is-enabled kubelet', stdout: 'Failed to get unit file state for kubelet.service: No such file or directory\n', exitCode: 1, readOnly: true },
    ]);
    const ctx = kubeContext([host]);
    const seen = await kubernetesPackagesPhase.observe({ ...target(ctx, host), host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) }, ctx, {});
    expect(seen).toMatchObject({ version: '1.33.4', wrong: ['kubelet', 'kubectl'], unheld: ['kubectl'], kubeletEnabled: false });
    expect(host.unmet()).toEqual([]);
  });

  it('installs, records what appeared for reset, and proves it in the next round', async () => {
    const host = new FakeHost('gpu-1', [
      { command: /^dpkg-query -W -f '\$\{Package\} \$\{Version\} \$\{db:Status-Abbrev\}\n' kubeadm kubelet kubectl$/, exitCode: 1, stderr: 'dpkg-query: no packages found matching kubeadm', readOnly: true },
      { command: 'apt-mark showhold', stdout: '', readOnly: true },
      { command: 'systemctl is-enabled kubelet', stdout: 'Failed to get unit file state for kubelet.service: No such file or directory\n', exitCode: 1, readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: phaseFixture('debian12-lab-dpkg-query.txt'), readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: `${phaseFixture('debian12-lab-dpkg-query.txt')}ii  kubeadm\nii  kubelet\nii  kubectl\n`, readOnly: true },
      { command: /^apt-get -q -y .* update$/, readOnly: false },
      { command: /^apt-get -q -y .* install --no-install-recommends kubeadm=1\.33\.4-1\.1 kubelet=1\.33\.4-1\.1 kubectl=1\.33\.4-1\.1$/, readOnly: false },
      { command: 'cat /var/lib/ferry/packages/kubernetes-packages.list', exitCode: 1, readOnly: true },
      { command: 'apt-mark hold kubeadm kubelet kubectl', readOnly: false },
      { command: 'systemctl enable kubelet', readOnly: false },
      { command: /^dpkg-query -W -f '\$\{Package\} /, stdout: 'kubeadm 1.33.4-1.1 hi \nkubectl 1.33.4-1.1 hi \nkubelet 1.33.4-1.1 hi \n', readOnly: true },
      { command: 'apt-mark showhold', stdout: 'kubeadm\nkubectl\nkubelet\n', readOnly: true },
      { command: 'systemctl is-enabled kubelet', stdout: 'enabled\n', readOnly: true },
    ]);
    const ctx = kubeContext([host]);
    ctx.inventory.hosts = ctx.inventory.hosts.filter((h) => h.name === 'gpu-1');
    const [report] = await runPhases([{ phase: kubernetesPackagesPhase, params: {} }], ctx, { concurrency: 1, hostFor: () => host });
    expect(report!.hosts).toEqual({ 'gpu-1': 'ran' });
    expect(host.written.get('/var/lib/ferry/packages/kubernetes-packages.list')?.data).toBe('kubeadm\nkubectl\nkubelet\n');
    expect(host.unmet()).toEqual([]);
  });
});

describe('kubeadm-init', () => {
  it('places the init config owner-only, runs kubeadm init --upload-certs, records the upload time and keeps admin.conf', async () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const cp1 = new FakeHost('cp-1', [
      { command: /^test -e \/etc\/kubernetes\/admin\.conf && kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf get --raw \/readyz$/, exitCode: 1, readOnly: true, times: 2 },
      staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
      { command: 'kubeadm init --config /etc/ferry/kubeadm.yaml --upload-certs', stdout: 'Your Kubernetes control-plane has initialized successfully!\n', readOnly: false },
      { command: 'cat /etc/kubernetes/admin.conf', stdout: 'apiVersion: v1\nkind: Config\n' },
    ]);
    const ctx = kubeContext([cp1], { now: () => now });
    expect(kubeadmInitPhase.targets(ctx, {}).map((h) => h.name)).toEqual(['cp-1']);
    expect(await kubeadmInitPhase.isDone(target(ctx, cp1), ctx, {})).toBe(false);
    await kubeadmInitPhase.run(target(ctx, cp1), ctx, {});
    const config = cp1.written.get('/var/lib/ferry/staging/kubeadm.yaml')!;
    expect(config.mode).toBe(0o600);
    expect(config.data).toContain(`token: ${TOKEN}`);
    expect(config.data).toContain('controlPlaneEndpoint: 10.20.0.100:8443');
    expect(config.data).toContain('imageRepository: registry.ferry.internal:5000/registry.k8s.io');
    expect(await readUploadTime(ctx)).toEqual(now);
    expect(readFileSync(ctx.layout!.adminConf, 'utf8')).toContain('kind: Config');
    expect(statSync(ctx.layout!.adminConf).mode & 0o777).toBe(0o600);
    expect(cp1.unmet()).toEqual([]);
  });
});

describe('join-control-planes', () => {
  const joinExpectations = (uploadCerts: boolean) => {
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node cp-2 -o json', exitCode: 1, stderr: 'Error from server (NotFound): nodes "cp-2" not found', readOnly: true, times: 2 },
      { command: 'cat /etc/kubernetes/pki/ca.crt', stdout: caPem, readOnly: true },
      { command: TOKEN_LIST, stdout: listed(TOKEN), readOnly: true },
      ...(uploadCerts
        ? [
            { command: 'sha256sum -- /etc/ferry/kubeadm.yaml', stdout: `${'0'.repeat(64)}  /etc/ferry/kubeadm.yaml\n`, readOnly: true },
            staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
            { command: 'kubeadm init phase upload-certs --upload-certs --config /etc/ferry/kubeadm.yaml', stdout: '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n', readOnly: false },
          ]
        : []),
    ]);
    const cp2 = new FakeHost('cp-2', [
      { command: 'test -e /etc/kubernetes/kubelet.conf', exitCode: 1, readOnly: true, times: 2 },
      staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
      { command: 'kubeadm join --config /etc/ferry/kubeadm.yaml', readOnly: false },
    ]);
    return { cp1, cp2 };
  };

  it.each([
    { name: 'certificates 3 h old: uploaded again on cp-1 first', ageMinutes: 180, upload: true },
    { name: 'certificates 30 min old: joined with them as they are', ageMinutes: 30, upload: false },
  ])('$name', async ({ ageMinutes, upload }) => {
    const now = new Date('2026-11-23T15:00:00Z');
    const { cp1, cp2 } = joinExpectations(upload);
    const ctx = kubeContext([cp1, cp2], { now: () => now });
    await writeUploadTime(ctx, new Date(now.getTime() - ageMinutes * 60_000));
    expect(joinControlPlanesPhase.targets(ctx, {}).map((h) => h.name)).toEqual(['cp-2', 'cp-3']);
    expect(await joinControlPlanesPhase.isDone(target(ctx, cp2), ctx, {})).toBe(false);
    await joinControlPlanesPhase.run(target(ctx, cp2), ctx, {});
    const join = cp2.written.get('/var/lib/ferry/staging/kubeadm.yaml')!;
    expect(join.data).toContain(`certificateKey: ${KEY}`);
    expect(join.data).toContain(caCertHash(caPem));
    expect(join.data).toContain('apiServerEndpoint: 10.20.0.100:8443');
    expect((await readUploadTime(ctx))?.getTime()).toBe(upload ? now.getTime() : now.getTime() - ageMinutes * 60_000);
    expect([...cp1.unmet(), ...cp2.unmet()]).toEqual([]);
  });

  it('makes the token known again when verify deleted it, and stops before any change when cp-1 has no CA', async () => {
    const cp1 = new FakeHost('cp-1', [{ command: 'cat /etc/kubernetes/pki/ca.crt', exitCode: 1, stderr: 'cat: /etc/kubernetes/pki/ca.crt: No such file or directory', readOnly: true }]);
    const cp2 = new FakeHost('cp-2');
    const ctx = kubeContext([cp1, cp2]);
    await expect(joinControlPlanesPhase.run(target(ctx, cp2), ctx, {})).rejects.toThrow(/cp-1 has no cluster CA .*kubeadm init has not run there/);
    expect([...cp1.mutating(), ...cp2.mutating()]).toEqual([]);
  });
});

describe('join-workers', () => {
  it('joins without a certificate key, creating the token again when the cluster no longer has it', async () => {
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node gpu-1 -o json', exitCode: 1, readOnly: true },
      { command: 'cat /etc/kubernetes/pki/ca.crt', stdout: caPem, readOnly: true },
      { command: TOKEN_LIST, stdout: '', readOnly: true },
      { command: `kubeadm token create ${TOKEN} --ttl 2h --kubeconfig /etc/kubernetes/admin.conf`, readOnly: false },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node gpu-1 -o json', stdout: '{"kind":"Node"}', readOnly: true },
    ]);
    const gpu1 = new FakeHost('gpu-1', [
      { command: 'test -e /etc/kubernetes/kubelet.conf', exitCode: 0, readOnly: true },
      { command: 'kubeadm reset -f', readOnly: false },
      staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
      { command: 'kubeadm join --config /etc/ferry/kubeadm.yaml', readOnly: false },
    ]);
    const ctx = kubeContext([cp1, gpu1]);
    // gpu-1 has kubelet.conf but the API does not list it (a join cut off half-way): reset first, then join.
    await joinWorkersPhase.run(target(ctx, gpu1), ctx, { batch: 10 });
    expect(gpu1.written.get('/var/lib/ferry/staging/kubeadm.yaml')!.data).not.toContain('certificateKey');
    expect(gpu1.mutating()).toEqual(['kubeadm reset -f', 'install -D -m 600 /var/lib/ferry/staging/kubeadm.yaml /etc/ferry/kubeadm.yaml && rm -f /var/lib/ferry/staging/kubeadm.yaml', 'kubeadm join --config /etc/ferry/kubeadm.yaml']);
    expect(await joinWorkersPhase.isDone(target(ctx, new FakeHost('gpu-1', [{ command: 'test -e /etc/kubernetes/kubelet.conf', readOnly: true }])), ctx, { batch: 10 })).toBe(true);
  });

  it('runs at most `batch` joins at once, whatever the SSH concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const registry = phaseRegistry();
    const phase = { ...joinWorkersPhase, isDone: async () => false, run: async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
    } };
    registry.set('join-workers', phase);
    const ctx = kubeContext([]);
    ctx.inventory.hosts.push(...['w1', 'w2', 'w3', 'w4'].map((n, i) => ({ name: n, address: `10.20.0.3${i}`, roles: ['worker' as const] })));
    await runPhases(planPlaybook([{ id: 'join-workers', params: { batch: 2 } }], registry, 'test'), ctx, { concurrency: 30, hostFor: (n) => new FakeHost(n) });
    expect(most).toBe(2);
  });
});

describe('a host limit (add-node)', () => {
  it('narrows node phases to the host, but not the phases that act for the whole cluster', async () => {
    const ran: string[] = [];
    const registry = phaseRegistry();
    // Each phase in the old shape whatever its own (a plan phase's observe and plan left out), recording its hosts.
    const record = (id: string) => {
      const { observe: _observe, plan: _plan, ...phase } = registry.get(id)! as AnyPhase & { observe?: unknown; plan?: unknown };
      return { ...phase, isDone: async () => false, run: async (t: { spec: { name: string } }) => void ran.push(`${id} ${t.spec.name}`) } as AnyPhase;
    };
    for (const id of ['kubernetes-packages', 'os-prepare', 'join-workers', 'verify']) registry.set(id, record(id));
    const ctx = kubeContext([]);
    const plan = planPlaybook(['os-prepare', 'kubernetes-packages', 'join-workers', 'verify'].map((id) => ({ id, params: {} })), registry, 'test');
    await runPhases(plan, ctx, { concurrency: 1, limit: new Set(['gpu-2']), hostFor: (n) => new FakeHost(n) });
    expect(ran).toEqual([
      ...['cp-1', 'cp-2', 'cp-3', 'gpu-1', 'gpu-2'].map((n) => `os-prepare ${n}`),
      'kubernetes-packages gpu-2', 'join-workers gpu-2', 'verify cp-1',
    ]);
  });
});

describe('verify', () => {
  const ready = (names: string[]) => JSON.stringify({ items: names.map((n) => ({ metadata: { name: n }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) });
  const running = (ctx: PhaseContext) => JSON.stringify({ items: [
    ...['cp-1', 'cp-2', 'cp-3'].flatMap((n) => ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((c) => ({ metadata: { name: `${c}-${n}`, namespace: 'kube-system' }, spec: { nodeName: n }, status: { phase: 'Running' } }))),
    ...ctx.inventory.hosts.map((h, i) => ({ metadata: { name: `calico-node-${i}x`, namespace: 'kube-system' }, spec: { nodeName: h.name }, status: { phase: 'Running' } })),
  ] });
  const NODES = ['cp-1', 'cp-2', 'cp-3', 'gpu-1', 'gpu-2'];

  it('checks nodes, pods and the API through the endpoint, then deletes the bootstrap token', async () => {
    const cp1 = new FakeHost('cp-1');
    const ctx = kubeContext([cp1]);
    cp1.expect(
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json', stdout: ready(NODES), readOnly: true, times: 2 },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o json', stdout: running(ctx), readOnly: true, times: 2 },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf --server https://10.20.0.100:8443 get --raw /readyz', stdout: 'ok', readOnly: true, times: 2 },
      { command: TOKEN_LIST, stdout: listed(TOKEN, 'zzzzzz.0123456789abcdef'), readOnly: true, times: 2 },
      { command: 'kubeadm token delete abcdef --kubeconfig /etc/kubernetes/admin.conf', readOnly: false },
    );
    const params = { timeoutSeconds: 5, pollSeconds: 0.1 };
    expect(await verifyPhase.isDone(target(ctx, cp1), ctx, params)).toBe(false);
    await verifyPhase.run(target(ctx, cp1), ctx, params);
    expect(cp1.mutating()).toEqual(['kubeadm token delete abcdef --kubeconfig /etc/kubernetes/admin.conf']);
    expect(cp1.unmet()).toEqual([]);
  });

  it('gives up after its timeout naming every node and pod still missing, and deletes nothing', async () => {
    let t = Date.parse('2026-11-23T12:00:00Z');
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json', stdout: fixture('nodes-one-not-ready.json'), readOnly: true, times: Infinity },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o json', stdout: fixture('pods-kube-system.json'), readOnly: true, times: Infinity },
      { command: /--server https:\/\/10\.20\.0\.100:8443 get --raw \/readyz$/, exitCode: 1, stderr: 'Unable to connect to the server: dial tcp 10.20.0.100:8443: connect: no route to host', readOnly: true, times: Infinity },
    ]);
    const ctx = kubeContext([cp1], { now: () => new Date((t += 1000)) });
    const err = await verifyPhase.run(target(ctx, cp1), ctx, { timeoutSeconds: 3, pollSeconds: 0.1 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/not healthy after 3 s/);
    for (const missing of ['node gpu-1: Ready=False (KubeletNotReady)', 'node cp-2: not registered', 'node gpu-2: not registered', 'pod kube-system/calico-node-* on gpu-1: Pending (ImagePullBackOff)', 'kube-apiserver-* on cp-3: no such pod', 'not reachable through 10.20.0.100:8443: Unable to connect'])
      expect(String(err)).toContain(missing);
    expect(cp1.mutating()).toEqual([]);
  });
});

describe('cni', () => {
  function withManifest(ctx: PhaseContext): PhaseContext {
    const bundleDir = join(dir, 'bundle');
    const path = 'manifests/calico/3.30.3/calico.yaml';
    mkdirSync(join(bundleDir, 'manifests/calico/3.30.3'), { recursive: true });
    writeFileSync(join(bundleDir, path), fixture('calico-trimmed.yaml'));
    const manifest = ctx.state.bundleManifest as BundleManifest;
    manifest.artifacts.push({ kind: 'manifest', path, size: 1, sha256: '0'.repeat(64), source: 'test', name: 'calico.yaml', version: '3.30.3' });
    return { ...ctx, bundleDir };
  }

  it('places the patched manifest, applies it server-side and stamps what it applied', async () => {
    const cp1 = new FakeHost('cp-1', [
      { command: 'cat /var/lib/ferry/cni.applied', exitCode: 1, readOnly: true },
      { command: 'sha256sum -- /etc/ferry/cni.yaml', exitCode: 1, readOnly: true },
      { command: 'install -D -m 644 /var/lib/ferry/staging/cni.yaml /etc/ferry/cni.yaml && rm -f /var/lib/ferry/staging/cni.yaml', readOnly: false },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf apply --server-side --force-conflicts -f /etc/ferry/cni.yaml', stdout: 'daemonset.apps/calico-node serverside-applied\n', readOnly: false },
      { command: /^mkdir -p \/var\/lib\/ferry && echo [0-9a-f]{64} > \/var\/lib\/ferry\/cni\.applied$/, readOnly: false },
    ]);
    const ctx = withManifest(kubeContext([cp1]));
    ctx.inventory.network.encapsulation = 'vxlan';
    expect(await cniPhase.isDone(target(ctx, cp1), ctx, {})).toBe(false);
    await cniPhase.run(target(ctx, cp1), ctx, {});
    const placed = cp1.written.get('/var/lib/ferry/staging/cni.yaml')!.data;
    expect(placed).toMatch(/- name: CALICO_IPV4POOL_VXLAN\n\s+value: "?Always"?\n/);
    expect(placed).toMatch(/- name: CALICO_IPV4POOL_CIDR\n\s+value: 10\.244\.0\.0\/16\n/);
    expect(placed).not.toMatch(/^---\n---/m);
    expect(cp1.unmet()).toEqual([]);
  });

  it.each(['cilium', 'flannel'] as const)('refuses %s before the run changes anything', async (cni) => {
    const ctx = kubeContext([]);
    ctx.inventory.network.cni = cni;
    const host = new FakeHost('cp-1');
    const plan = planPlaybook(['kubernetes-packages', 'cni'].map((id) => ({ id, params: {} })), phaseRegistry(), 'test');
    await expect(runPhases(plan, ctx, { concurrency: 1, hostFor: () => host })).rejects.toThrow(new RegExp(`network.cni in the inventory is ${cni}: .*not yet`));
    expect(host.calls).toEqual([]);
  });
});
