// The Kubernetes phases: kubernetes-packages against strict scripted hosts; the observe → plan phases (kubeadm-init,
// the joins, verify, the CNI) by tables of observations → steps (one line per step, as a plan prints them), their
// observe against strict scripted hosts (read-only through the runner's read-only hosts), and a run through the
// runner: what an apply writes on the admin host, the two-hour certificate logic on an injected clock, batches.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateLayout } from '../../../src/state/layout.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../../src/bundle/manifest.ts';
import { ReadOnlyHost } from '../../../src/hosts/read-only.ts';
import { cniPhase, planCni, type CniSeen } from '../../../src/phases/cni.ts';
import { joinControlPlanesPhase } from '../../../src/phases/join-control-planes.ts';
import { joinWorkersPhase } from '../../../src/phases/join-workers.ts';
import { planJoin, type JoinSeen } from '../../../src/phases/kube/join-node.ts';
import { caCertHash } from '../../../src/phases/kube/join-secrets.ts';
import { kubeadmInitPhase, planKubeadmInit, type InitSeen } from '../../../src/phases/kubeadm-init.ts';
import { kubernetesPackagesPhase, planKubePackages, type KubePackagesSeen } from '../../../src/phases/kubernetes-packages.ts';
import { debianFamily } from '../../../src/phases/os/debian.ts';
import { elFamily } from '../../../src/phases/os/el.ts';
import { contentDigest } from '../../../src/phases/place-files.ts';
import type { AnyPhase, PhaseContext, Phase } from '../../../src/phases/phase.ts';
import { planPlaybook, runPhases } from '../../../src/phases/runner.ts';
import { phaseRegistry } from '../../../src/phases/registry.ts';
import { describeStep, type Step } from '../../../src/phases/step.ts';
import { planVerify, verifyPhase, type VerifySeen } from '../../../src/phases/verify.ts';
import { renderedFile } from '../../../src/render/file.ts';
import { FakeHost, type Expectation } from '../../support/fake-host.ts';
import { fixture as phaseFixture } from '../fixtures.ts';
import { phaseContext } from '../phase-context.ts';

const TOKEN = 'abcdef.0123456789abcdef';
const KEY = '0123456789abcdef'.repeat(4);
const STATE = '/state/lab';
const layout = new StateLayout(STATE);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
let dir: string;
let caPem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-kube-phases-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=kubernetes'], { stdio: 'ignore' });
  caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A context whose admin host is `admin` (a scripted fake: reads from `reads`, writes kept) and whose hosts are `hosts`. */
function kubeContext(hosts: FakeHost[], options: { now?: () => Date; admin?: FakeHost } = {}): PhaseContext {
  const ctx = phaseContext('debian');
  ctx.state.join = { token: TOKEN, certificateKey: KEY };
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return {
    ...ctx, layout, admin: options.admin ?? new FakeHost('admin host'), ...(options.now ? { now: options.now } : {}),
    hostFor: (n) => byName.get(n) ?? new FakeHost(n),
  };
}
const target = (ctx: PhaseContext, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });
/** What observe is given by the runner: the node and the admin host, both read-only. */
const seenBy = (ctx: PhaseContext, host: FakeHost) => ({ ...target(ctx, host), host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) });
const lines = (steps: readonly Step[]) => steps.map(describeStep);
const staged = (name: string, path: string): Expectation => ({ command: `install -D -m 600 /var/lib/ferry/staging/${name} ${path} && rm -f /var/lib/ferry/staging/${name}`, readOnly: false });
const TOKEN_LIST = 'kubeadm token list --kubeconfig /etc/kubernetes/admin.conf -o json';
const listed = (...tokens: string[]) => tokens.map((t) => `{\n    "kind": "BootstrapToken",\n    "token": "${t}"\n}\n`).join('');
/** A phase's id, targets and scope only, recording each host it visits (its observe) and planning nothing. */
const visits = (phase: AnyPhase, visited: (t: { spec: { name: string } }) => void): AnyPhase => ({
  id: phase.id, title: phase.title, undo: phase.undo, targets: phase.targets, ...(phase.wholeCluster ? { wholeCluster: true } : {}),
  ...(phase.params ? { params: phase.params } : {}), ...(phase.concurrency ? { concurrency: phase.concurrency } : {}),
  observe: async (t) => visited(t), plan: () => [],
});

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
      steps: ['dnf -y -q --disablerepo=* --enablerepo=ferry --disableexcludes=ferry install kubeadm-1.33.4-150500.1.1 kubelet-1.33.4-150500.1.1 kubectl-1.33.4-150500.1.1', 'systemctl enable kubelet'],
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
  const config = renderedFile('/etc/ferry/kubeadm.yaml', 'kind: InitConfiguration\n', { secrets: [KEY] });
  const now = new Date('2026-11-23T12:00:00Z');
  const INIT = ['place /etc/ferry/kubeadm.yaml', 'kubeadm init --config /etc/ferry/kubeadm.yaml --upload-certs', `admin host: write ${layout.certsUploadedAt}`];
  const FETCH = `fetch /etc/kubernetes/admin.conf to the admin host's ${layout.adminConf}`;
  it.each<[string, InitSeen, string[]]>([
    ['a fresh control plane: init, record the upload time, keep admin.conf', { apiReady: false, adminConfKept: false }, [...INIT, FETCH]],
    ['initialised, only the admin host has no copy: fetch it (kubeadm init refuses a second run)', { apiReady: true, adminConfKept: false }, [FETCH]],
    ['the API does not answer though a copy is kept: init again', { apiReady: false, adminConfKept: true }, [...INIT, FETCH]],
    ['initialised and kept: nothing', { apiReady: true, adminConfKept: true }, []],
  ])('%s', (_, seen, want) => {
    expect(lines(planKubeadmInit(seen, { config, now, layout }))).toEqual(want);
  });

  it('records the upload time owner-only, runs init with the config\'s secrets, fetches admin.conf owner-only', () => {
    const steps = planKubeadmInit({ apiReady: false, adminConfKept: false }, { config, now, layout });
    expect(steps[1]).toMatchObject({ kind: 'exec', secrets: [KEY], timeoutMs: 600_000 });
    expect(steps[2]).toEqual({ kind: 'write', on: 'admin', path: layout.certsUploadedAt, content: '2026-11-23T12:00:00.000Z\n', mode: 0o600 });
    expect(steps[3]).toEqual({ kind: 'fetch', from: '/etc/kubernetes/admin.conf', to: layout.adminConf, mode: 0o600 });
  });

  it('observes the API on cp-1 and the copy on the admin host, read-only; a run applies the plan, and the next round is empty', async () => {
    const cp1 = new FakeHost('cp-1', [
      { command: /^test -e \/etc\/kubernetes\/admin\.conf && kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf get --raw \/readyz$/, exitCode: 1, readOnly: true },
      staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
      { command: 'kubeadm init --config /etc/ferry/kubeadm.yaml --upload-certs', stdout: 'Your Kubernetes control-plane has initialized successfully!\n', readOnly: false },
      { command: 'cat -- /etc/kubernetes/admin.conf', stdout: 'apiVersion: v1\nkind: Config\n', readOnly: false },
      { command: /get --raw \/readyz$/, stdout: 'ok', readOnly: true },
    ]);
    const admin = new FakeHost('admin host', [
      { command: `test -e ${layout.adminConf}`, exitCode: 1, readOnly: true },
      { command: `test -e ${layout.adminConf}`, readOnly: true },
    ]);
    const ctx = kubeContext([cp1], { now: () => now, admin });
    expect(kubeadmInitPhase.targets(ctx, {}).map((h) => h.name)).toEqual(['cp-1']);
    const [report] = await runPhases([{ phase: kubeadmInitPhase, params: {} }], ctx, { concurrency: 1, hostFor: () => cp1 });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran' });
    const placed = cp1.written.get('/var/lib/ferry/staging/kubeadm.yaml')!;
    expect(placed.mode).toBe(0o600);
    expect(placed.data).toContain(`token: ${TOKEN}`);
    expect(placed.data).toContain('controlPlaneEndpoint: 10.20.0.100:8443');
    expect(placed.data).toContain('imageRepository: registry.ferry.internal:5000/registry.k8s.io');
    expect(admin.written.get(layout.certsUploadedAt)).toEqual({ data: `${now.toISOString()}\n`, mode: 0o600 });
    expect(admin.written.get(layout.adminConf)).toEqual({ data: 'apiVersion: v1\nkind: Config\n', mode: 0o600 });
    expect([...cp1.unmet(), ...admin.unmet()]).toEqual([]);
  });
});

describe('joins', () => {
  const now = new Date('2026-11-23T15:00:00Z');
  const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
  const HASH = `sha256:${'a'.repeat(64)}`;
  const init = renderedFile('/etc/ferry/kubeadm.yaml', 'kind: InitConfiguration\n', { secrets: [KEY] });
  const input = (node: string, controlPlane: boolean) => ({
    node, first: 'cp-1', token: TOKEN, ttl: '2h', now, layout, waitListed: async () => {},
    joinFile: (hashes: string[]) => renderedFile('/etc/ferry/kubeadm.yaml', `caCertHashes: ${hashes.join(',')}\n`, { secrets: [TOKEN] }),
    ...(controlPlane ? { initConfig: init } : {}),
  });
  const JOIN = ['place /etc/ferry/kubeadm.yaml', 'kubeadm join --config /etc/ferry/kubeadm.yaml'];
  const TOKEN_CREATE = 'cp-1: kubeadm token create abcdef.<redacted> --ttl 2h --kubeconfig /etc/kubernetes/admin.conf';
  const UPLOAD = ['cp-1: kubeadm init phase upload-certs --upload-certs --config /etc/ferry/kubeadm.yaml', `admin host: write ${layout.certsUploadedAt}`];
  const fresh = { kubeletConf: false, listed: false, caCertHashes: [HASH], tokenKnown: true };
  it.each<[string, string, boolean, JoinSeen, string[]]>([
    ['a joined worker: nothing', 'gpu-1', false, { kubeletConf: true, listed: true }, []],
    ['a fresh worker, token known: config, join, wait', 'gpu-1', false, fresh, [...JOIN, 'wait until the API lists gpu-1']],
    ['the token deleted (verify ran): made again on cp-1 first', 'gpu-1', false, { ...fresh, tokenKnown: false }, [TOKEN_CREATE, ...JOIN, 'wait until the API lists gpu-1']],
    ['half-joined (kubelet.conf, not in the API): reset first', 'gpu-1', false, { ...fresh, kubeletConf: true }, ['kubeadm reset -f', ...JOIN, 'wait until the API lists gpu-1']],
    ['a control plane, certificates 30 min old: joined with them', 'cp-2', true, { ...fresh, certs: { uploadedAt: ago(30), initConfigChanged: false } }, [...JOIN, 'wait until the API lists cp-2']],
    ['a control plane, certificates 3 h old: uploaded again on cp-1', 'cp-2', true, { ...fresh, certs: { uploadedAt: ago(180), initConfigChanged: false } }, [...UPLOAD, ...JOIN, 'wait until the API lists cp-2']],
    ['never uploaded by this admin host, init config changed on cp-1: placed there, uploaded', 'cp-2', true, { ...fresh, certs: { initConfigChanged: true } }, ['cp-1: place /etc/ferry/kubeadm.yaml', ...UPLOAD, ...JOIN, 'wait until the API lists cp-2']],
  ])('%s', (_, node, controlPlane, seen, want) => {
    expect(lines(planJoin(seen, input(node, controlPlane)))).toEqual(want);
  });

  it('joins with the CA pin, makes the token once per run however many nodes plan it, and refuses without a CA', () => {
    const steps = planJoin({ ...fresh, tokenKnown: false }, input('gpu-1', false));
    expect(steps[0]).toMatchObject({ kind: 'exec', on: { host: 'cp-1' }, once: 'token-create:abcdef', secrets: ['0123456789abcdef'] });
    expect(steps[1]).toMatchObject({ kind: 'place', file: { content: `caCertHashes: ${HASH}\n` } });
    expect(() => planJoin({ kubeletConf: false, listed: false }, input('gpu-1', false))).toThrow(/cp-1 has no cluster CA .*kubeadm init has not run there/);
  });

  it('observes a control plane: kubelet.conf on the node, the API, CA, token and init config on cp-1, the upload time on the admin host, all read-only', async () => {
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node cp-2 -o json', exitCode: 1, stderr: 'Error from server (NotFound): nodes "cp-2" not found', readOnly: true },
      { command: 'cat /etc/kubernetes/pki/ca.crt', stdout: caPem, readOnly: true },
      { command: TOKEN_LIST, stdout: listed(TOKEN), readOnly: true },
      { command: 'sha256sum -- /etc/ferry/kubeadm.yaml', stdout: `${'0'.repeat(64)}  /etc/ferry/kubeadm.yaml\n`, readOnly: true },
    ]);
    const cp2 = new FakeHost('cp-2', [{ command: 'test -e /etc/kubernetes/kubelet.conf', exitCode: 1, readOnly: true }]);
    const admin = new FakeHost('admin host', [], { [layout.certsUploadedAt]: `${ago(180).toISOString()}\n` });
    const ctx = kubeContext([cp1, cp2], { now: () => now, admin });
    expect(joinControlPlanesPhase.targets(ctx, {}).map((h) => h.name)).toEqual(['cp-2', 'cp-3']);
    const seen = await joinControlPlanesPhase.observe(seenBy(ctx, cp2), ctx, {});
    expect(seen).toEqual({ kubeletConf: false, listed: false, caCertHashes: [caCertHash(caPem)], tokenKnown: true, certs: { uploadedAt: ago(180), initConfigChanged: true } });
    expect(ctx.state.caCertHashes).toEqual([caCertHash(caPem)]);
    const plan = joinControlPlanesPhase.plan(seen, { spec: target(ctx, cp2).spec, ctx, params: {} });
    const join = plan.find((s): s is Extract<Step, { kind: 'place' }> => s.kind === 'place' && s.on === undefined)!.file;
    expect(join.content).toContain(`certificateKey: ${KEY}`);
    expect(join.content).toContain(caCertHash(caPem));
    expect(join.content).toContain('apiServerEndpoint: 10.20.0.100:8443');
    expect([...cp1.unmet(), ...cp2.unmet()]).toEqual([]);
  });

  it('a run: the token made on cp-1, the worker reset and joined, then listed; the next round finds it joined', async () => {
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node gpu-1 -o json', exitCode: 1, readOnly: true },
      { command: 'cat /etc/kubernetes/pki/ca.crt', stdout: caPem, readOnly: true },
      { command: TOKEN_LIST, stdout: '', readOnly: true },
      { command: `kubeadm token create ${TOKEN} --ttl 2h --kubeconfig /etc/kubernetes/admin.conf`, readOnly: false },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get node gpu-1 -o json', stdout: '{"kind":"Node"}', readOnly: true, times: 2 },
    ]);
    const gpu1 = new FakeHost('gpu-1', [
      { command: 'test -e /etc/kubernetes/kubelet.conf', exitCode: 0, readOnly: true, times: 2 },
      { command: 'kubeadm reset -f', readOnly: false },
      staged('kubeadm.yaml', '/etc/ferry/kubeadm.yaml'),
      { command: 'kubeadm join --config /etc/ferry/kubeadm.yaml', readOnly: false },
    ]);
    const ctx = kubeContext([cp1, gpu1]);
    ctx.inventory.hosts = ctx.inventory.hosts.filter((h) => h.name !== 'gpu-2');
    const [report] = await runPhases([{ phase: joinWorkersPhase, params: { batch: 10 } }], ctx, { concurrency: 4, hostFor: (n) => (n === 'gpu-1' ? gpu1 : cp1) });
    expect(report!.hosts).toEqual({ 'gpu-1': 'ran' });
    expect(gpu1.written.get('/var/lib/ferry/staging/kubeadm.yaml')!.data).not.toContain('certificateKey');
    expect(gpu1.mutating()).toEqual(['kubeadm reset -f', 'install -D -m 600 /var/lib/ferry/staging/kubeadm.yaml /etc/ferry/kubeadm.yaml && rm -f /var/lib/ferry/staging/kubeadm.yaml', 'kubeadm join --config /etc/ferry/kubeadm.yaml']);
    expect([...cp1.unmet(), ...gpu1.unmet()]).toEqual([]);
  });

  it('runs at most `batch` joins at once, whatever the SSH concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const registry = phaseRegistry();
    const phase: Phase<unknown, undefined> = { ...joinWorkersPhase, observe: async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      return undefined;
    }, plan: () => [] };
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
    for (const id of ['kubernetes-packages', 'os-prepare', 'join-workers', 'verify'])
      registry.set(id, visits(registry.get(id)!, (t) => void ran.push(`${id} ${t.spec.name}`)));
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
  const params = { timeoutSeconds: 5, pollSeconds: 0.1 };

  it.each<[string, VerifySeen, string[]]>([
    ['healthy, the token listed: delete it', { problems: [], tokenListed: true }, ['kubeadm token delete abcdef --kubeconfig /etc/kubernetes/admin.conf']],
    ['healthy, the token gone: nothing', { problems: [], tokenListed: false }, []],
    ['not healthy yet: wait (the token waits for the next round)', { problems: ['node gpu-1: not registered'], }, ['wait up to 5 s for: node gpu-1: not registered']],
  ])('%s', (_, seen, want) => {
    expect(lines(planVerify(seen, { tokenId: 'abcdef', timeoutSeconds: 5, waitHealthy: async () => {} }))).toEqual(want);
  });

  it('observes nodes, pods and the API through the endpoint, then the token list, read-only; a run deletes the token', async () => {
    const cp1 = new FakeHost('cp-1');
    const ctx = kubeContext([cp1]);
    cp1.expect(
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json', stdout: ready(NODES), readOnly: true, times: 2 },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o json', stdout: running(ctx), readOnly: true, times: 2 },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf --server https://10.20.0.100:8443 get --raw /readyz', stdout: 'ok', readOnly: true, times: 2 },
      { command: TOKEN_LIST, stdout: listed(TOKEN, 'zzzzzz.0123456789abcdef'), readOnly: true },
      { command: TOKEN_LIST, stdout: listed('zzzzzz.0123456789abcdef'), readOnly: true },
      { command: 'kubeadm token delete abcdef --kubeconfig /etc/kubernetes/admin.conf', readOnly: false },
    );
    const [report] = await runPhases([{ phase: verifyPhase, params }], ctx, { concurrency: 1, hostFor: () => cp1 });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran' });
    expect(cp1.mutating()).toEqual(['kubeadm token delete abcdef --kubeconfig /etc/kubernetes/admin.conf']);
    expect(cp1.unmet()).toEqual([]);
  });

  it('the wait gives up after its timeout naming every node and pod still missing, read-only', async () => {
    let t = Date.parse('2026-11-23T12:00:00Z');
    const cp1 = new FakeHost('cp-1', [
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json', stdout: fixture('nodes-one-not-ready.json'), readOnly: true, times: Infinity },
      { command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o json', stdout: fixture('pods-kube-system.json'), readOnly: true, times: Infinity },
      { command: /--server https:\/\/10\.20\.0\.100:8443 get --raw \/readyz$/, exitCode: 1, stderr: 'Unable to connect to the server: dial tcp 10.20.0.100:8443: connect: no route to host', readOnly: true, times: Infinity },
    ]);
    const ctx = kubeContext([cp1], { now: () => new Date((t += 1000)) });
    const p = { timeoutSeconds: 3, pollSeconds: 0.1 };
    const seen = await verifyPhase.observe(seenBy(ctx, cp1), ctx, p);
    expect(seen.tokenListed).toBeUndefined();
    const [wait] = verifyPhase.plan(seen, { spec: target(ctx, cp1).spec, ctx, params: p });
    const err = await (wait as Extract<Step, { kind: 'task' }>).run({ node: cp1, admin: ctx.admin }).catch((e: Error) => e);
    expect(String(err)).toMatch(/not healthy after 3 s/);
    for (const missing of ['node gpu-1: Ready=False (KubeletNotReady)', 'node cp-2: not registered', 'node gpu-2: not registered', 'pod kube-system/calico-node-* on gpu-1: Pending (ImagePullBackOff)', 'kube-apiserver-* on cp-3: no such pod', 'not reachable through 10.20.0.100:8443: Unable to connect'])
      expect(String(err)).toContain(missing);
    expect(cp1.mutating()).toEqual([]);
  });
});

describe('cni', () => {
  const file = renderedFile('/etc/ferry/cni.yaml', 'kind: DaemonSet\n');
  const digest = contentDigest(file.content);
  const APPLY = 'kubectl --kubeconfig /etc/kubernetes/admin.conf apply --server-side --force-conflicts -f /etc/ferry/cni.yaml';
  const STAMP = `mkdir -p /var/lib/ferry && echo ${digest} > /var/lib/ferry/cni.applied`;
  it.each<[string, CniSeen, string[]]>([
    ['fresh: placed, applied, stamped', { file, changed: true, stamp: '' }, ['place /etc/ferry/cni.yaml', APPLY, STAMP]],
    ['placed but never applied (no stamp): applied, stamped', { file, changed: false, stamp: '' }, [APPLY, STAMP]],
    ['a stamp of another manifest: applied again', { file, changed: false, stamp: '0'.repeat(64) }, [APPLY, STAMP]],
    ['the file edited on the node: placed and applied again', { file, changed: true, stamp: digest }, ['place /etc/ferry/cni.yaml', APPLY, STAMP]],
    ['applied as stamped: nothing', { file, changed: false, stamp: digest }, []],
  ])('%s', (_, seen, want) => {
    expect(lines(planCni(seen))).toEqual(want);
  });

  it('observes the patched manifest (read from the bundle through the admin host), the node\'s copy and the stamp, read-only', async () => {
    const path = 'manifests/calico/3.30.3/calico.yaml';
    const cp1 = new FakeHost('cp-1', [
      { command: 'cat /var/lib/ferry/cni.applied', exitCode: 1, readOnly: true },
      { command: 'sha256sum -- /etc/ferry/cni.yaml', exitCode: 1, readOnly: true },
    ]);
    const ctx = kubeContext([cp1], { admin: new FakeHost('admin host', [], { [join('/bundle', path)]: fixture('calico-trimmed.yaml') }) });
    (ctx.state.bundleManifest as BundleManifest).artifacts.push({ kind: 'manifest', path, size: 1, sha256: '0'.repeat(64), source: 'test', name: 'calico.yaml', version: '3.30.3' });
    ctx.inventory.network.encapsulation = 'vxlan';
    const seen = await cniPhase.observe(seenBy(ctx, cp1), ctx, {});
    expect(seen.changed).toBe(true);
    expect(seen.stamp).toBe('');
    expect(seen.file.content).toMatch(/- name: CALICO_IPV4POOL_VXLAN\n\s+value: "?Always"?\n/);
    expect(seen.file.content).toMatch(/- name: CALICO_IPV4POOL_CIDR\n\s+value: 10\.244\.0\.0\/16\n/);
    expect(seen.file.content).not.toMatch(/^---\n---/m);
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
