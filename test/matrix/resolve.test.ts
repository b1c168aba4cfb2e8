import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { parseRequest, type RawRequest } from '../../src/matrix/request.ts';
import { createResolver, resolve } from '../../src/matrix/resolve.ts';
import { NOW, realMatrix, resolveRaw } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

// Rows from the examples and compatibility-facts.md: what an expert picks at 2026-12-07 (fixture NOW).
const stacks: { name: string; raw: RawRequest; expect: Record<string, unknown>; rules?: Record<string, string[]>; hostChanges?: string[] }[] = [
  {
    name: 'rocky 9.4 + H100 + Kubernetes 1.33: containerd 2.0 LTS (2.1 ended), its tested runc line, R620 LTSB with open modules, Rocky 9.4 ended',
    raw: { os: 'rocky-9.4', gpu: 'h100', k8s: '1.33' },
    expect: { kubernetes: '1.33.13', cgroup: 'v2', cri: { name: 'containerd', version: '2.0.11' }, runc: '1.3.6', nvidiaDriver: { branch: '620', version: '620.70.06', kernelModule: 'open' }, cni: { name: 'calico', version: '3.31.7' } },
    rules: { os: ['request', 'end-of-life'], containerd: ['containerd-min-for-k8s', 'prefer-long-term'], 'nvidia-driver': ['nvidia-open-modules-default-r560'], runc: ['runc-cve-2025-52565', 'runc-cve-2026-41579', 'runc-min-for-containerd'] },
    hostChanges: ['nvidia-blacklist-nouveau'],
  },
  {
    name: 'RHEL 8.10 + V100 + CRI-O + 1.33: CRI-O of the same minor, R580 (last for Volta), proprietary modules, cgroup v1 kept',
    raw: { os: 'rhel-8.10', gpu: 'v100', cri: 'cri-o', k8s: '1.33' },
    expect: { cgroup: 'v1', cri: { name: 'cri-o', version: '1.33.13' }, nvidiaDriver: { branch: '580', version: '580.126.18', kernelModule: 'proprietary' } },
    rules: { 'cri-o': ['crio-minor-matches-k8s'], 'nvidia-driver': ['volta-last-branch-r580', 'volta-proprietary-modules-only'], cgroup: ['k8s-1.31-cgroup-v1-maintenance'] },
  },
  {
    name: 'Ubuntu 24.04 + B200 pinned to R580: newest supported Kubernetes, containerd 2.3 LTS, open modules only',
    raw: { os: 'ubuntu-24.04', gpu: 'b200', pins: ['nvidia-driver=580'] },
    expect: { kubernetes: '1.36.4', cri: { name: 'containerd', version: '2.3.4' }, runc: '1.4.3', nvidiaDriver: { branch: '580', version: '580.126.18', kernelModule: 'open' }, cni: { name: 'calico', version: '3.32.1' } },
    rules: { 'nvidia-driver': ['pin', 'blackwell-needs-r570', 'blackwell-needs-open-modules', 'b200-needs-driver-570.133.20'] },
  },
  {
    name: 'EL8 with Kubernetes 1.35: cgroup v2 through a kernel argument, stated as a host change',
    raw: { os: 'alma-8.10', k8s: '1.35' },
    expect: { cgroup: 'v2', kubernetes: '1.35.9', nvidiaDriver: null },
    rules: { cgroup: ['k8s-1.35-refuses-cgroup-v1', 'cgroup-v2-kernel-arg', 'runc-cgroup-v2-systemd-244'] },
    hostChanges: ['cgroup-v2-kernel-arg'],
  },
  {
    name: 'cgroup v2 requested on EL8 with 1.33: the switch is a host change citing the request',
    raw: { os: 'rocky-8.10', k8s: '1.33', cgroup: 'v2' },
    expect: { cgroup: 'v2' },
    rules: { cgroup: ['request', 'cgroup-v2-kernel-arg'] },
    hostChanges: ['cgroup-v2-kernel-arg'],
  },
  {
    name: 'cgroup v1 requested on Ubuntu with 1.34: allowed, with the maintenance-mode warning and a host change back to v1',
    raw: { os: 'ubuntu-24.04', k8s: '1.34', cgroup: 'v1' },
    expect: { cgroup: 'v1' },
    rules: { cgroup: ['request', 'k8s-1.31-cgroup-v1-maintenance', 'cgroup-v1-kernel-arg'] },
    hostChanges: ['cgroup-v1-kernel-arg'],
  },
  {
    name: 'no GPU, nothing pinned: the newest Kubernetes minor that can be chosen (1.37 lacks its containerd row and kubeadm images)',
    raw: { os: 'debian-12' },
    expect: { kubernetes: '1.36.4', nvidiaDriver: null, cgroup: 'v2' },
    rules: { kubernetes: ['prefer-supported', 'prefer-newest'] },
  },
  {
    name: 'T4 (Turing) on R535 pinned: proprietary modules, R535 predates the open default',
    raw: { os: 'ubuntu-22.04', gpu: 't4', k8s: '1.34', pins: ['nvidia-driver=535'] },
    expect: { nvidiaDriver: { branch: '535', version: '535.288.01', kernelModule: 'proprietary' } },
  },
  {
    name: 'an exact driver version pin is kept as written (leading zeros included)',
    raw: { os: 'rocky-9.6', gpu: 'a100', pins: ['nvidia-driver=580.95.05'] },
    expect: { nvidiaDriver: { branch: '580', version: '580.95.05', kernelModule: 'open' } },
  },
  {
    name: 'Cilium on RHEL 8.10 with 1.33: 1.18 needs kernel 5.10, so Cilium 1.17 (RHEL 8.6+) is picked',
    raw: { os: 'rhel-8.10', k8s: '1.33', cni: 'cilium' },
    expect: { cni: { name: 'cilium', version: '1.17.15' } },
    rules: { cilium: ['request', 'cni-kernel-min', 'cni-k8s-newer-than-tested'] },
  },
  {
    name: 'Cilium on Rocky 9.4 with 1.33: 1.18 fits kernel 5.14 and its tested range',
    raw: { os: 'rocky-9.4', k8s: '1.33', cni: 'cilium' },
    expect: { cni: { name: 'cilium', version: '1.18.14' } },
  },
  {
    name: 'Kubernetes 1.29 with Calico: 3.29 is the newest release tested with 1.29 (3.30 starts at 1.31)',
    raw: { os: 'ubuntu-22.04', k8s: '1.29' },
    expect: { cni: { name: 'calico', version: '3.29.7' }, cri: { name: 'containerd', version: '1.7.34' } },
  },
  {
    name: 'a pinned Calico older than the Kubernetes minor is kept with a warning (newer Kubernetes relies on backward compatibility)',
    raw: { os: 'debian-12', k8s: '1.33', pins: ['calico=3.28'] },
    expect: { cni: { name: 'calico', version: '3.28.5' } },
    rules: { calico: ['pin', 'cni-k8s-newer-than-tested'] },
  },
  {
    name: 'arm64 is carried into the stack',
    raw: { os: 'ubuntu-24.04', arch: 'arm64' },
    expect: { os: { id: 'ubuntu', version: '24.04', family: 'debian', arch: 'arm64' } },
  },
];

describe('resolve picks the stack an expert would', () => {
  it.each(stacks)('$name', ({ raw, expect: want, rules, hostChanges }) => {
    const res = resolveRaw(catalog, raw);
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res.conflicts)}`);
    expect(res.stack).toMatchObject(want);
    for (const [component, ids] of Object.entries(rules ?? {})) {
      const decision = res.decisions.find((d) => d.component === component);
      expect(decision?.rules, component).toEqual(expect.arrayContaining(ids));
    }
    if (hostChanges) expect(res.hostChanges.map((h) => h.id)).toEqual(hostChanges);
    expect(res.decisions.map((d) => d.component).slice(0, 3)).toEqual(['os', 'cgroup', 'kubernetes']);
  });
});

// Refusals from compatibility-facts.md: each must cite the rule that refuses.
const refusals: { name: string; raw: RawRequest; rules: string[]; message: RegExp }[] = [
  { name: 'Kepler (k80): R470 was its last branch and the matrix carries R535+', raw: { os: 'rhel-8.10', gpu: 'k80' }, rules: ['kepler-last-branch-r470'], message: /Kepler .*R470/ },
  { name: 'Volta with a driver past R580', raw: { os: 'rhel-8.10', gpu: 'v100', pins: ['nvidia-driver=595'] }, rules: ['volta-last-branch-r580'], message: /R580; pinned R595/ },
  { name: 'containerd 1.x with Kubernetes 1.36', raw: { os: 'rocky-9.4', k8s: '1.36', pins: ['containerd=1.7'] }, rules: ['containerd-min-for-k8s'], message: /containerd 1\.7 is not recommended for Kubernetes 1\.36/ },
  { name: 'Cilium 1.18 on the RHEL 8 kernel', raw: { os: 'rhel-8.10', k8s: '1.33', pins: ['cilium=1.18'] }, rules: ['cni-kernel-min'], message: /cilium 1\.18 needs kernel 5\.10\+; rhel-8\.10 runs 4\.18/ },
  { name: 'EL8 with Kubernetes 1.35 and cgroup v1 requested', raw: { os: 'rhel-8.10', k8s: '1.35', cgroup: 'v1' }, rules: ['k8s-1.35-refuses-cgroup-v1'], message: /refuses .*cgroup v1/ },
  { name: 'B200 below driver 570.133.20', raw: { os: 'ubuntu-24.04', gpu: 'b200', pins: ['nvidia-driver=570.124.06'] }, rules: ['b200-needs-driver-570.133.20'], message: /570\.133\.20/ },
  { name: 'Blackwell on R550', raw: { os: 'ubuntu-24.04', gpu: 'b200', pins: ['nvidia-driver=550'] }, rules: ['blackwell-needs-r570'], message: /R570 or newer/ },
  { name: 'runc 1.1 lacks the 2025 CVE fixes', raw: { os: 'debian-12', pins: ['runc=1.1'] }, rules: ['runc-cve-2025-52565'], message: /lacks the fix/ },
  { name: 'runc 1.3.2 lacks the 2025 CVE fixes (1.3.3)', raw: { os: 'debian-12', pins: ['runc=1.3.2'] }, rules: ['runc-cve-2025-52565'], message: /1\.3\.3/ },
  { name: 'runc older than containerd 2.3 was tested with', raw: { os: 'debian-12', k8s: '1.36', pins: ['runc=1.3'] }, rules: ['runc-min-for-containerd'], message: /older than 1\.4\.3/ },
  { name: 'Kubernetes 1.37: known, but its kubeadm images are not', raw: { os: 'debian-12', k8s: '1.37' }, rules: ['kubeadm-images-known'], message: /kubeadm 1\.37/ },
  { name: 'runc 1.2 has no fix for CVE-2026-41579', raw: { os: 'debian-12', pins: ['runc=1.2'] }, rules: ['runc-cve-2026-41579'], message: /1\.3\.6, 1\.4\.3, 1\.5\.0/ },
  { name: 'containerd patch below the minimum for the minor', raw: { os: 'debian-12', k8s: '1.33', pins: ['containerd=2.0.3'] }, rules: ['containerd-min-for-k8s'], message: /older than 2\.0\.4/ },
  { name: 'CRI-O of another minor', raw: { os: 'debian-12', k8s: '1.34', pins: ['cri-o=1.33'] }, rules: ['crio-minor-matches-k8s'], message: /must equal/ },
  { name: 'Kubernetes older than the pinned Calico was tested with', raw: { os: 'debian-12', k8s: '1.29', pins: ['calico=3.31'] }, rules: ['cni-k8s-min-tested'], message: /calico 3\.31 is tested with Kubernetes 1\.32-1\.35, not 1\.29/ },
];

describe('resolve refuses what cannot work, citing the rules', () => {
  it.each(refusals)('$name', ({ raw, rules, message }) => {
    const res = resolveRaw(catalog, raw);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.conflicts.flatMap((c) => c.rules)).toEqual(expect.arrayContaining(rules));
    expect(res.conflicts.map((c) => c.message).join('\n')).toMatch(message);
  });
});

describe('--accept-risk', () => {
  // Debian 12's runc is 1.1.5+ds1-1+deb12u1, with the CVE-2024-21626 fix backported (DSA-5615-1): a site that runs it
  // accepts the floors by name, and the lock says so.
  const raw: RawRequest = { os: 'debian-12', k8s: '1.33', pins: ['containerd=2.1.9', 'runc=1.1.5'] };
  const all = ['runc-cve-2024-21626', 'runc-cve-2025-52565', 'runc-cve-2026-41579', 'runc-min-for-containerd'];

  it('turns exactly the accepted runc refusals into warnings and decision notes', () => {
    const res = resolveRaw(catalog, { ...raw, acceptRisks: all });
    if (!res.ok) throw new Error(res.conflicts.map((c) => c.message).join('; '));
    expect(res.stack.runc).toBe('1.1.5');
    const runc = res.decisions.find((d) => d.component === 'runc')!;
    expect(runc.rules).toContain('accepted-risk');
    expect(runc.why).toMatch(/accepted risk \(--accept-risk runc-cve-2024-21626\): runc 1\.1\.5 lacks the fix for CVE-2024-21626/);
    expect(res.warnings.filter((w) => w.startsWith('accepted risk'))).toHaveLength(4);
  });

  it('still refuses what was not accepted', () => {
    const res = resolveRaw(catalog, { ...raw, acceptRisks: ['runc-cve-2024-21626'] });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.conflicts.flatMap((c) => c.rules)).toEqual(expect.arrayContaining(['runc-cve-2025-52565', 'runc-cve-2026-41579', 'runc-min-for-containerd']));
    expect(res.conflicts.flatMap((c) => c.rules)).not.toContain('runc-cve-2024-21626');
  });

  it('refuses to accept a compatibility rule', () => {
    expect(() => parseRequest(catalog, { os: 'debian-12', acceptRisks: ['cni-kernel-min'] })).toThrow(/^--accept-risk cni-kernel-min: only these refusals can be accepted: runc-cve-2024-21626, runc-cve-2025-52565, runc-cve-2026-41579, runc-min-for-containerd$/);
  });
});

describe('resolve and the date', () => {
  it('prefers supported releases, and falls back to an end-of-life one with a warning when nothing supported fits', () => {
    const early = resolveRaw(catalog, { os: 'debian-12', k8s: '1.35' }, new Date('2026-10-01T00:00:00Z'));
    const late = resolveRaw(catalog, { os: 'debian-12', k8s: '1.35' }, new Date('2026-11-23T00:00:00Z'));
    if (!early.ok || !late.ok) throw new Error('expected stacks');
    // containerd 2.2 is supported until 2026-11-06: chosen silently before, with an end-of-life warning after.
    expect(early.stack.cri.version).toBe('2.2.7');
    expect(early.warnings.join('\n')).not.toMatch(/end-of-life/);
    expect(late.stack.cri.version).toBe('2.2.7');
    expect(late.warnings.join('\n')).toMatch(/containerd 2\.2 is end-of-life since 2026-11-06/);
    expect(late.decisions.find((d) => d.component === 'containerd')!.rules).toContain('end-of-life');
  });

  it('takes the newest LTSB (R620) over R580 LTSB and R595 PB, keeps R580 for Volta, and once every branch has ended picks the one that ended last', () => {
    const res = resolveRaw(catalog, { os: 'rhel-9.6', gpu: 'h100' }, new Date('2027-01-15T00:00:00Z'));
    if (!res.ok) throw new Error('expected a stack');
    expect(res.stack.nvidiaDriver?.branch).toBe('620');
    const volta = resolveRaw(catalog, { os: 'rhel-9.6', gpu: 'v100' }, new Date('2027-01-15T00:00:00Z'));
    expect(volta.ok && volta.stack.nvidiaDriver?.branch).toBe('580');
    const after = resolveRaw(catalog, { os: 'rhel-9.6', gpu: 'h100' }, new Date('2029-10-01T00:00:00Z'));
    if (!after.ok) throw new Error('expected a stack');
    expect(after.stack.nvidiaDriver?.branch).toBe('620');
    expect(after.warnings.join('\n')).toMatch(/NVIDIA driver R620 is end-of-life since 2029-09-30/);
  });

  it('marks decisions that rest on unverified facts, and says so in the why', () => {
    const res = resolveRaw(catalog, { os: 'ubuntu-24.04', gpu: 'h100', k8s: '1.33' });
    if (!res.ok) throw new Error('expected a stack');
    const unverified = res.decisions.filter((d) => d.rules.includes('unverified-fact'));
    expect(unverified.length).toBeGreaterThan(0);
    for (const d of unverified) expect(d.why).toMatch(/\[unverified: \S+/);
    expect(res.decisions.find((d) => d.component === 'os')!.rules).not.toContain('unverified-fact');
  });
});

describe('createResolver', () => {
  it('gives every request the same answer a fresh resolve gives, whatever was resolved before it', () => {
    const shared = createResolver(catalog, NOW);
    const raws: RawRequest[] = [];
    for (const os of ['rhel-8.10', 'rocky-9.4', 'ubuntu-24.04'])
      for (const k8s of ['1.29', '1.33', '1.35', undefined])
        for (const gpu of [undefined, 'v100', 'b200', 'k80'])
          for (const extra of [{}, { cri: 'cri-o' }, { cni: 'cilium' }, { pins: ['nvidia-driver=535'] }, { cgroup: 'v1' }, { pins: ['runc=1.4'] }])
            raws.push({ os, k8s, gpu, ...extra });
    for (const raw of raws) {
      const request = parseRequest(catalog, raw);
      expect(JSON.stringify(shared(request)), JSON.stringify(raw)).toBe(JSON.stringify(resolve(catalog, request, NOW)));
    }
    expect(raws.length).toBe(288);
  });
});

// End of life per OS release and distribution: an EL minor ends when the next ships on Rocky and Alma, Red Hat keeps
// some with Extended Update Support; Kubernetes ends on the date its release data gives.
const lifecycles: { name: string; raw: RawRequest; now: string; warning: RegExp | null; why?: RegExp }[] = [
  { name: 'Rocky 9.4 before Rocky 9.5 shipped', raw: { os: 'rocky-9.4' }, now: '2024-11-01', warning: null, why: /supported until 2024-11-19/ },
  { name: 'Rocky 9.4 after Rocky 9.5 shipped', raw: { os: 'rocky-9.4' }, now: '2026-12-07', warning: /Rocky Linux 9\.4 is end-of-life since 2024-11-19/ },
  { name: 'RHEL 9.4 inside its Extended Update Support', raw: { os: 'rhel-9.4' }, now: '2026-01-15', warning: null, why: /Extended Update Support until 2026-04-30/ },
  { name: 'RHEL 9.4 after its Extended Update Support', raw: { os: 'rhel-9.4' }, now: '2026-12-07', warning: /Red Hat Enterprise Linux 9\.4 is end-of-life since 2026-04-30 \(Extended Update Support ended\)/ },
  { name: 'RHEL 9.6 (EUS) while Rocky 9.6 has ended', raw: { os: 'rhel-9.6' }, now: '2026-12-07', warning: null },
  { name: 'AlmaLinux 9.6 ended with the next minor', raw: { os: 'almalinux-9.6' }, now: '2026-12-07', warning: /AlmaLinux 9\.6 is end-of-life/ },
  { name: 'RHEL 8.10 until the end of RHEL 8', raw: { os: 'rhel-8.10' }, now: '2026-12-07', warning: null, why: /supported until 2029-05-31/ },
  { name: 'Kubernetes 1.30 on the day before its real end of life (not the planned 2025-06-28)', raw: { os: 'debian-12', k8s: '1.30' }, now: '2025-07-14', warning: null },
  { name: 'Kubernetes 1.30 after 2025-07-15', raw: { os: 'debian-12', k8s: '1.30' }, now: '2025-07-16', warning: /Kubernetes 1\.30 is end-of-life since 2025-07-15/ },
  { name: 'Kubernetes 1.31 before 2025-11-11 (not the planned 2025-10-28)', raw: { os: 'debian-12', k8s: '1.31' }, now: '2025-11-01', warning: null },
  { name: 'Kubernetes 1.31 after 2025-11-11', raw: { os: 'debian-12', k8s: '1.31' }, now: '2025-11-12', warning: /Kubernetes 1\.31 is end-of-life since 2025-11-11/ },
  { name: 'Kubernetes 1.34 after 2026-10-27', raw: { os: 'debian-12', k8s: '1.34' }, now: '2026-12-07', warning: /Kubernetes 1\.34 is end-of-life since 2026-10-27/ },
];

describe('end of life per OS release, distribution and Kubernetes minor', () => {
  it.each(lifecycles)('$name', ({ raw, now, warning, why }) => {
    const res = resolveRaw(catalog, raw, new Date(`${now}T00:00:00Z`));
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res.conflicts)}`);
    const text = res.warnings.join('\n');
    const subject = raw.k8s ? /Kubernetes \S+ is end-of-life/ : /Linux|AlmaLinux|Enterprise|Ubuntu|Debian/;
    if (warning) expect(text).toMatch(warning);
    else expect(res.warnings.filter((w) => subject.test(w) && /end-of-life/.test(w))).toEqual([]);
    if (why) expect(res.decisions.find((d) => d.component === 'os')!.why).toMatch(why);
  });
});
