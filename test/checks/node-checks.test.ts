import { describe, expect, it } from 'vitest';
import { nodeChecks, runNodeChecks } from '../../src/checks/registry.ts';
import type { Finding } from '../../src/checks/types.ts';
import type { Facts } from '../../src/facts/types.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { nodeCtx, testPlan } from './context.ts';
import { neighbourLimits, neighboursNeeded } from '../../src/checks/node-basics.ts';

const debian = () => fixtureFacts('debian12-admin-host', 'cp-1');
const rocky = () => fixtureFacts('rocky8-gpu-reconstructed', 'gpu-1');
const load = { debian, rocky };

function run(id: string, facts: Facts, ctx = nodeCtx(facts.host)): Finding[] {
  const check = nodeChecks.find((c) => c.id === id)!;
  return check.run(facts, ctx);
}
const statuses = (fs: Finding[]) => fs.map((f) => f.status);
const edit = (facts: Facts, change: (f: Facts) => void): Facts => {
  const copy = structuredClone(facts);
  change(copy);
  return copy;
};

describe('iptables-backend', () => {
  it.each([
    ['a clean nft node', (f: Facts) => f, 'pass', /1\.8\.9 \(nf_tables\).*CNI backend: NFT/],
    ['rules in both backends', (f: Facts) => { f.iptables.legacyRules = 12; f.iptables.nftRules = 30; }, 'fail', /both backends: 12 in iptables-legacy, 30 in iptables-nft/],
    ['nft below 1.8.4', (f: Facts) => { f.iptables.version = '1.8.2'; }, 'fail', /older than 1\.8\.4/],
    ['no iptables at all', (f: Facts) => { f.iptables.version = undefined; f.iptables.mode = undefined; }, 'warn', /not installed/],
  ] as const)('%s', (_, change, status, message) => {
    const [f] = run('iptables-backend', edit(debian(), change as (f: Facts) => void));
    expect(f).toMatchObject({ status, message: expect.stringMatching(message) });
  });
  it('warns when an EL node runs the legacy backend', () => {
    const [f] = run('iptables-backend', edit(rocky(), (f) => { f.iptables.mode = 'legacy'; }));
    expect(f!.status).toBe('warn');
    expect(f!.remedy).toMatch(/FELIX_IPTABLESBACKEND=Legacy/);
  });
});

describe('cgroup-version', () => {
  it.each([
    ['1.33', 'warn'],
    ['1.34', 'warn'],
    ['1.35', 'fail'],
    ['1.36', 'fail'],
  ])('cgroup v1 under Kubernetes %s is %s', (version, status) => {
    const [f] = run('cgroup-version', debian(), nodeCtx('cp-1', ['control-plane'], testPlan({ kubernetesVersion: version })));
    expect(f!.status).toBe(status);
    expect(f!.remedy).toMatch(/systemd\.unified_cgroup_hierarchy=1/);
  });
  it('passes cgroup v2 with cpu, cpuset, memory, pids and fails it without memory', () => {
    const v2 = edit(debian(), (f) => { f.cgroup = { version: 'v2', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }; });
    expect(statuses(run('cgroup-version', v2))).toEqual(['pass']);
    const noMemory = edit(v2, (f) => { f.cgroup.controllers = ['cpuset', 'cpu', 'pids']; });
    expect(run('cgroup-version', noMemory)[0]).toMatchObject({ status: 'fail', message: 'cgroup v2 lacks controllers: memory' });
  });
});

describe('cgroup-driver', () => {
  it('fails Debian containerd’s runc with SystemdCgroup = false against the systemd driver ferry renders, naming the exact table', () => {
    const [f] = run('cgroup-driver', debian());
    expect(f!.status).toBe('fail');
    expect(f!.message).toMatch(/"runc" has SystemdCgroup = false but kubelet uses the systemd driver/);
    expect(f!.remedy).toContain('set SystemdCgroup = true under [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]');
    expect(f!.remedy).toContain('systemctl restart containerd');
  });
  it('checks every runtime: nvidia passes, runc fails on the GPU node', () => {
    expect(run('cgroup-driver', rocky()).map((f) => [f.message.match(/"(\w+)"/)?.[1], f.status])).toEqual([['nvidia', 'pass'], ['runc', 'fail']]);
  });
  it('uses the driver of an existing kubelet config over the planned one', () => {
    const f = edit(debian(), (x) => { x.kubelet = { configPresent: true, cgroupDriver: 'cgroupfs' }; });
    expect(statuses(run('cgroup-driver', f))).toEqual(['pass', 'warn']);
  });
  it('checks CRI-O’s cgroup_manager', () => {
    const f = edit(debian(), (x) => { x.containerd = undefined; x.crio = { cgroupManager: 'cgroupfs' }; });
    expect(run('cgroup-driver', f)[0]).toMatchObject({ status: 'fail', remedy: expect.stringContaining('cgroup_manager = "systemd"') });
  });
  it('passes a node with no runtime yet', () => {
    expect(statuses(run('cgroup-driver', edit(debian(), (x) => { x.containerd = undefined; })))).toEqual(['pass']);
  });
});

describe('small node checks', () => {
  it.each([
    ['swap', 'rocky', 'fail', /swap is on \(\/dev\/dm-1\)/],
    ['swap', 'debian', 'pass', /no swap/],
    ['ip-forward', 'debian', 'fail', /ip_forward = 0/],
    ['kernel-keyring', 'debian', 'pass', /1000000/],
    ['cpu-memory', 'debian', 'pass', /2 CPU/],
    ['kernel-modules', 'debian', 'pass', /br_netfilter .* and overlay/],
    ['firewall', 'rocky', 'warn', /firewalld is active \(FirewallBackend=nftables\)/],
    ['security-policy', 'rocky', 'warn', /SELinux is enforcing: install will set it permissive, now and in \/etc\/selinux\/config \(inventory selinux: permissive, the default/],
    ['time-sync', 'rocky', 'pass', /NTP-synchronized/],
    ['time-sync', 'debian', 'warn', /cannot tell/],
    ['container-runtime', 'debian', 'fail', /containerd 1\.6\.20 is below the minimum for Kubernetes 1\.33/],
    ['container-runtime', 'rocky', 'pass', /containerd 1\.7\.27 supports Kubernetes 1\.33/],
    ['disk-headroom', 'rocky', 'pass', /6% used/],
  ] as const)('%s on %s: %s', (id, fixture, status, message) => {
    const fs = run(id, load[fixture]());
    expect(fs.map((f) => f.status)).toContain(status);
    expect(fs.find((f) => f.status === status)!.message).toMatch(message);
  });

  it.each([
    ['permissive (default), enforcing node', 'permissive', 'Enforcing', true, 'warn', /install will set it permissive/],
    ['enforcing, enforcing node with container-selinux', 'enforcing', 'Enforcing', true, 'pass', /SELinux Enforcing, kept \(selinux: enforcing\), container-selinux installed/],
    ['enforcing, enforcing node without it', 'enforcing', 'Enforcing', false, 'pass', /kept \(selinux: enforcing\); install adds container-selinux from the bundle/],
    ['leave, enforcing node with container-selinux', 'leave', 'Enforcing', true, 'warn', /SELinux is enforcing and the inventory says selinux: leave: ferry changes nothing/],
    ['leave, enforcing node without it', 'leave', 'Enforcing', false, 'fail', /container-selinux is not installed, and the inventory says selinux: leave: containers cannot start/],
    ['leave, permissive node', 'leave', 'Permissive', false, 'pass', /SELinux Permissive/],
  ] as const)('security-policy with selinux: %s', (_n, policy, mode, installed, status, message) => {
    const f = edit(rocky(), (x) => { x.selinux = mode; x.elPackages['container-selinux'] = installed; });
    const [finding] = run('security-policy', f, { ...nodeCtx(f.host), selinux: policy });
    expect(finding).toMatchObject({ status, message: expect.stringMatching(message) });
  });

  it('warns on an EL8 4.18 kernel and fails one older than 4.19 elsewhere', () => {
    expect(run('kernel', rocky()).map((f) => f.status)).toEqual(['warn']);
    const old = edit(debian(), (f) => { f.kernel.release = '4.9.0-19-amd64'; });
    expect(run('kernel', old)[0]!.status).toBe('fail');
  });
  it('fails a taken control-plane port and names the holder', () => {
    const f = edit(debian(), (x) => { x.listeners.push({ address: '0.0.0.0', port: 6443 }); });
    expect(run('local-ports', f)).toEqual([expect.objectContaining({ status: 'fail', message: 'port 6443 (kube-apiserver) is already in use (0.0.0.0:6443)' })]);
  });
  it('does not ask a worker to keep control-plane ports free', () => {
    const f = edit(debian(), (x) => { x.listeners.push({ address: '0.0.0.0', port: 6443 }); });
    expect(statuses(run('local-ports', f, nodeCtx('w-1', ['worker'])))).toEqual(['pass']);
  });
  it('tells how to make an unresolvable hostname resolve, with the node’s own address', () => {
    const f = edit(debian(), (x) => { x.dns.hostResolves = false; x.identity.hostname = 'cp-1'; });
    expect(run('hostname-dns', f)).toEqual([expect.objectContaining({ status: 'warn', remedy: "echo '10.0.0.21 cp-1' >> /etc/hosts" })]);
    expect(run('hostname-dns', f, nodeCtx('cp-1', ['control-plane'], testPlan(), ''))[0]!.remedy).toBe("echo '192.0.2.2 cp-1' >> /etc/hosts");
  });
  it('warns when the proxy would swallow cluster traffic', () => {
    const [f] = run('proxy', rocky(), nodeCtx('gpu-1', ['gpu', 'worker']));
    expect(f!.status).toBe('warn');
    expect(f!.message).toContain('10.0.0.21, 10.244.0.0/16, 10.96.0.0/12, .svc, .cluster.local, 10.0.0.100');
  });
  it('fails disk headroom when the bundle’s images reach the image-GC high mark, warns above the low mark', () => {
    const plan = testPlan({ imageBytes: 60 * 1024 ** 3 });
    expect(run('disk-headroom', rocky(), nodeCtx('gpu-1', ['gpu'], plan))[0]!.status).toBe('fail');
    expect(run('disk-headroom', rocky(), nodeCtx('gpu-1', ['gpu'], testPlan({ imageBytes: 53 * 1024 ** 3 })))[0]!.status).toBe('warn');
  });
});

describe('GPU checks', () => {
  const gpu = (facts: Facts) => runNodeChecks(facts, nodeCtx(facts.host, ['gpu', 'worker'])).filter((f) => f.check.startsWith('gpu-'));
  it('run only on gpu nodes', () => {
    expect(runNodeChecks(rocky(), nodeCtx('gpu-1', ['worker'])).some((f) => f.check.startsWith('gpu-'))).toBe(false);
  });
  it('flag nouveau, missing kernel-devel and Secure Boot on the reconstructed H100 node', () => {
    const byId = Object.fromEntries(gpu(rocky()).map((f) => [f.check, f]));
    expect(byId['gpu-nouveau']).toMatchObject({ status: 'fail', remedy: expect.stringContaining('dracut --force') });
    expect(byId['gpu-headers']).toMatchObject({ status: 'fail', message: expect.stringContaining('kernel-devel-4.18.0-372.19.1.el8_6.x86_64 is not installed') });
    expect(byId['gpu-secure-boot']!.status).toBe('fail');
    expect(byId['gpu-driver']).toMatchObject({ status: 'pass', message: '2 NVIDIA GPU(s); no driver loaded yet: ferry installs the one from the lock' });
  });
  it('fails a loaded driver that differs from the lock', () => {
    const f = edit(rocky(), (x) => { x.gpu.driverVersion = '550.135'; x.gpu.smi = [{ name: 'NVIDIA H100 80GB HBM3', driverVersion: '550.135', busId: '00000000:18:00.0' }]; });
    const [finding] = runNodeChecks(f, nodeCtx('gpu-1', ['gpu'], testPlan({ nvidiaDriver: '580.95.05' })), { only: ['gpu-driver'] });
    expect(finding).toMatchObject({ status: 'fail', message: expect.stringContaining('driver 550.135 is loaded but the lock pins 580.95.05') });
  });
  it('fails a gpu node without an NVIDIA device', () => {
    expect(gpu(debian()).find((f) => f.check === 'gpu-driver')!.status).toBe('fail');
  });
});

describe('selection', () => {
  it('runs only the selected ids and skips the skipped ones', () => {
    expect(new Set(runNodeChecks(debian(), nodeCtx('cp-1'), { only: ['swap', 'ip-forward'] }).map((f) => f.check))).toEqual(new Set(['swap', 'ip-forward']));
    expect(runNodeChecks(debian(), nodeCtx('cp-1'), { skip: ['swap'] }).some((f) => f.check === 'swap')).toBe(false);
  });
});

describe('neighbour-table', () => {
  const peers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `n${i}`, address: `10.0.${i >> 8}.${i & 255}`, roles: ['worker'] as const }));
  const withLimits = (gc2: string | undefined, gc3: string | undefined) =>
    edit(debian(), (f) => {
      if (gc2 === undefined) delete f.sysctl['net.ipv4.neigh.default.gc_thresh2'];
      else f.sysctl['net.ipv4.neigh.default.gc_thresh2'] = gc2;
      if (gc3 === undefined) delete f.sysctl['net.ipv4.neigh.default.gc_thresh3'];
      else f.sysctl['net.ipv4.neigh.default.gc_thresh3'] = gc3;
    });
  // Kernel defaults 512 / 1024 (ip-sysctl.rst): need = (nodes - 1) + 110 pods.
  it.each([
    ['5 nodes, kernel defaults', 5, '512', '1024', 'pass', /about 114 neighbour entries; gc_thresh2 = 512, gc_thresh3 = 1024/],
    ['402 nodes: 511 entries, still under gc_thresh2', 402, '512', '1024', 'pass', /about 511/],
    ['500 nodes: over gc_thresh2, under gc_thresh3', 500, '512', '1024', 'warn', /609 .*over gc_thresh2 = 512: entries older than 5 s are purged/],
    ['1,000 nodes: over gc_thresh3', 1000, '512', '1024', 'fail', /1109 .*over gc_thresh3 = 1024: packets to the neighbours past it are dropped/],
    ['1,000 nodes on raised limits', 1000, '2048', '4096', 'pass', /1109/],
    ['limits not read', 5, undefined, undefined, 'warn', /gc_thresh2\/3 not readable \(a network namespace other than the host's/],
  ] as const)('%s', (_, nodes, gc2, gc3, status, message) => {
    const facts = withLimits(gc2, gc3);
    const [f, ...rest] = run('neighbour-table', facts, { ...nodeCtx(facts.host), peers: peers(nodes) });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ check: 'neighbour-table', status, message: expect.stringMatching(message) });
    if (status !== 'pass') expect(f!.remedy).toBeDefined();
  });

  it('the remedy raises all three limits to hold twice the need (1,000 nodes: 4096)', () => {
    expect(neighbourLimits(neighboursNeeded(1000))).toEqual({ gc1: 512, gc2: 2048, gc3: 4096 });
    expect(neighbourLimits(neighboursNeeded(3))).toEqual({ gc1: 128, gc2: 512, gc3: 1024 });
    const [f] = run('neighbour-table', withLimits('512', '1024'), { ...nodeCtx('cp-1'), peers: peers(1000) });
    expect(f!.remedy).toContain('net.ipv4.neigh.default.gc_thresh3 = 4096');
  });

  it('says nothing without the cluster (doctor --local)', () => {
    expect(run('neighbour-table', withLimits('512', '1024'), { ...nodeCtx('cp-1'), peers: undefined })).toEqual([]);
  });
});
