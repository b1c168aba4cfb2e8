import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { BundleSpec, type PackageEntry } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { expand, newerElMinor, planBundle, renderPlan, templateVariables } from '../../src/bundle/plan.ts';
import { gpuDriverInstaller, gpuDriverSets } from '../../src/bundle/sources/gpu-packages.ts';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const rocky = parseYaml(read('./fixtures/lock-rocky9-h100.yaml'), 'lock-rocky9-h100.yaml', Lock);
const debian = parseYaml(read('./fixtures/lock-debian12-cpu.yaml'), 'lock-debian12-cpu.yaml', Lock);
const gpuCluster = parseYaml(read('../../bundles/gpu-cluster.yaml'), 'gpu-cluster.yaml', BundleSpec);

describe('planBundle with bundles/gpu-cluster.yaml', () => {
  it('plans a Rocky 9.4 GPU stack: EL repos for the minor with their keys, kube packages, driver alternatives per node kernel, the registry archive', () => {
    const kernel = '5.14.0-427.13.1.el9_4.x86_64';
    const p = planBundle(rocky, gpuCluster, { gpuDriverSets: gpuDriverSets(rocky, [kernel]), knownOsVersions: ['9.3', '9.4'] });
    expect(p.rpm?.releasever).toBe('9.4');
    expect(p.rpm?.arch).toBe('x86_64');
    expect(p.rpm?.repos.slice(0, 4).map((r) => r.baseurl)).toEqual([
      'https://dl.rockylinux.org/pub/rocky/9.4/BaseOS/x86_64/os/',
      'https://dl.rockylinux.org/pub/rocky/9.4/AppStream/x86_64/os/',
      'https://dl.fedoraproject.org/pub/epel/9/Everything/x86_64/',
      'https://download.docker.com/linux/rhel/9/x86_64/stable/',
    ]);
    expect(p.rpm?.repos[0]).toEqual({ id: 'baseos', baseurl: 'https://dl.rockylinux.org/pub/rocky/9.4/BaseOS/x86_64/os/', gpgkey: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9' });
    expect(p.rpm?.repos.find((r) => r.id === 'kubernetes')).toEqual({ id: 'kubernetes', baseurl: 'https://pkgs.k8s.io/core:/stable:/v1.33/rpm/', gpgkey: 'https://pkgs.k8s.io/core:/stable:/v1.33/rpm/repodata/repomd.xml.key' });
    expect(p.rpm?.repos.find((r) => r.id === 'cuda')?.baseurl).toBe('https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/');
    expect(p.vault).toBeUndefined();
    expect(p.rpm?.packages).toEqual(expect.arrayContaining(['containerd.io-2.0.8', 'kubeadm-1.33.13', 'kubelet-1.33.13', 'kubectl-1.33.13', 'haproxy', 'keepalived', 'nvidia-container-toolkit', 'container-selinux']));
    expect(p.rpm?.packages.some((x) => x.startsWith('kernel-devel'))).toBe(false);
    expect(p.rpm?.gpu.map((g) => [g.kernel, g.alternatives.map((a) => a.kind)])).toEqual([[kernel, ['precompiled', 'dkms']]]);
    expect(p.deb).toBeUndefined();
    expect(p.files).toEqual([{
      url: 'https://github.com/distribution/distribution/releases/download/v2.8.3/registry_2.8.3_linux_amd64.tar.gz',
      sha256Url: 'https://github.com/distribution/distribution/releases/download/v2.8.3/registry_2.8.3_linux_amd64.tar.gz.sha256',
      component: 'registry',
      version: '2.8.3',
      name: 'registry',
      mode: 0o755,
      extract: 'registry',
    }]);
    expect(p.manifests.map((m) => m.component)).toEqual(['calico', 'nvidia-device-plugin']);
    // The device plugin manifest follows the image version the lock chose.
    expect(p.manifests[1]!.url).toBe('https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v0.18.2/deployments/static/nvidia-device-plugin.yml');
    expect(p.images).toContainEqual({ ref: 'registry.k8s.io/pause:3.10', critical: true });
    expect(p.registries.credentials[0]).toMatchObject({ registry: 'nvcr.io', passwordEnv: 'NGC_API_KEY' });
  });

  it('adds NVIDIA\'s .run installer for the locked driver when the spec asks, through the mirrors', () => {
    const spec = { ...gpuCluster, nvidiaDriverInstaller: true, mirrors: { 'https://us.download.nvidia.com': 'http://mirror.site/nvidia' } };
    const p = planBundle(rocky, spec, { gpuDriverInstaller: gpuDriverInstaller(rocky) });
    expect(p.files.at(-1)).toMatchObject({ component: 'nvidia-driver', version: '580.126.18', url: 'http://mirror.site/nvidia/tesla/580.126.18/NVIDIA-Linux-x86_64-580.126.18.run' });
    expect(planBundle(debian, spec, { gpuDriverInstaller: gpuDriverInstaller(debian) }).skipped).toContain('NVIDIA driver installer: the lock has no NVIDIA driver');
  });

  it('plans a CPU-only Debian 12 stack: the archive, Docker\'s and pkgs.k8s.io\'s repos with their keys, versioned packages, nothing of the GPU', () => {
    const p = planBundle(debian, gpuCluster);
    expect(p.rpm).toBeUndefined();
    expect(p.deb?.arch).toBe('amd64');
    expect(p.deb?.sources[0]).toMatchObject({ uri: 'http://deb.debian.org/debian', suite: 'bookworm', signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' });
    expect(p.deb?.sources).toContainEqual({ uri: 'https://pkgs.k8s.io/core:/stable:/v1.33/deb/', suite: '/', components: [], signedBy: 'https://pkgs.k8s.io/core:/stable:/v1.33/deb/Release.key' });
    expect(p.deb?.sources).toContainEqual({ uri: 'https://download.docker.com/linux/debian', suite: 'bookworm', components: ['stable'], signedBy: 'https://download.docker.com/linux/debian/gpg' });
    // The lock's containerd, not the distribution's (Debian 12 ships 1.6); no toolkit without a GPU.
    expect(p.deb?.packages).toEqual(expect.arrayContaining(['containerd.io=2.0.8*', 'kubeadm=1.33.13*', 'kubelet=1.33.13*', 'kubectl=1.33.13*', 'haproxy', 'keepalived', 'curl']));
    expect(p.deb?.packages).not.toContain('containerd');
    expect(p.deb?.packages).not.toContain('nvidia-container-toolkit');
    // NVIDIA's repositories carry `when: { nvidiaDriver: "*" }`: a CPU-only build never contacts them.
    expect(p.deb?.sources.some((s) => /nvidia/.test(s.uri))).toBe(false);
    expect(p.deb?.sources).toHaveLength(5);
    expect(p.manifests.map((m) => m.component)).toEqual(['calico']);
  });

  it('refuses a CRI-O lock, which no install phase can install yet', () => {
    const crio = { ...debian, stack: { ...debian.stack, cri: { name: 'cri-o' as const, version: '1.33.5' } } };
    expect(() => planBundle(crio, gpuCluster)).toThrow(/^ferry cannot install CRI-O yet \(the lock asks for cri-o 1\.33\.5\): its install phases set up containerd only$/);
  });

  it('takes a package with a `when` only where the lock matches it', () => {
    const packages: PackageEntry[] = ['socat', { name: 'only-gpu', when: { nvidiaDriver: '*' } }, { name: 'only-calico', when: { cniName: 'calico' } }];
    const release = { ...gpuCluster.os.debian!['12']!, packages };
    const spec: typeof gpuCluster = { ...gpuCluster, os: { debian: { '12': release } } };
    expect(planBundle(debian, spec).deb?.packages).toEqual(['socat', 'only-calico']);
  });

  it('applies the spec mirrors (longest prefix wins) to repos, keys, files and their checksum URLs', () => {
    const spec = { ...gpuCluster, mirrors: { 'https://github.com': 'https://art.site/gh', 'https://dl.rockylinux.org/pub/rocky': 'http://repo.site/rocky', 'https://dl': 'http://x', 'https://pkgs.k8s.io': 'http://k8s.site' } };
    const p = planBundle(rocky, spec);
    expect(p.files[0]).toMatchObject({ url: 'https://art.site/gh/distribution/distribution/releases/download/v2.8.3/registry_2.8.3_linux_amd64.tar.gz', sha256Url: 'https://art.site/gh/distribution/distribution/releases/download/v2.8.3/registry_2.8.3_linux_amd64.tar.gz.sha256' });
    expect(p.rpm?.repos[1]).toMatchObject({ baseurl: 'http://repo.site/rocky/9.4/AppStream/x86_64/os/', gpgkey: 'http://repo.site/rocky/RPM-GPG-KEY-Rocky-9' });
    expect(p.rpm?.repos.find((r) => r.id === 'kubernetes')?.gpgkey).toBe('http://k8s.site/core:/stable:/v1.33/rpm/repodata/repomd.xml.key');
  });

  it('reads an EL minor that is no longer current from the vault, where the spec names one, and says so', () => {
    const p = planBundle(rocky, gpuCluster, { knownOsVersions: ['9.4', '9.5', '9.6', '8.10'] });
    expect(p.vault).toEqual({ current: '9.6' });
    expect(p.rpm?.releasever).toBe('9.4');
    expect(p.rpm?.repos.slice(0, 3).map((r) => r.baseurl)).toEqual([
      'https://dl.rockylinux.org/vault/rocky/9.4/BaseOS/x86_64/os/',
      'https://dl.rockylinux.org/vault/rocky/9.4/AppStream/x86_64/os/',
      'https://dl.fedoraproject.org/pub/epel/9/Everything/x86_64/',
    ]);
    expect(renderPlan(p)).toMatch(/^RPM repos for releasever 9.4 x86_64 \(9.4 is not the current minor, 9.6 is: repos with a vault URL use it\) \(7\):$/m);
    const mirrored = planBundle(rocky, { ...gpuCluster, mirrors: { 'https://dl.rockylinux.org/vault/rocky': 'http://repo.site/rocky-vault' } }, { knownOsVersions: ['9.6'] });
    expect(mirrored.rpm?.repos[0]?.baseurl).toBe('http://repo.site/rocky-vault/9.4/BaseOS/x86_64/os/');
  });

  it('refuses a lock whose OS release the spec has no sources for', () => {
    const lock = { ...rocky, stack: { ...rocky.stack, os: { ...rocky.stack.os, version: '10.0' } } };
    expect(() => planBundle(lock, gpuCluster)).toThrow(/no package sources for rocky 10.0 \(os.el."10"\)/);
  });
});

describe('newerElMinor', () => {
  it.each([
    { name: 'an older minor: the newest of its major', version: '9.4', known: ['9.2', '9.4', '9.6', '9.5', '10.0'], want: '9.6' },
    { name: 'the newest minor the matrix knows is current', version: '9.6', known: ['9.4', '9.6', '10.0'], want: undefined },
    { name: 'a minor newer than the matrix is current', version: '9.7', known: ['9.6'], want: undefined },
    { name: 'minors compare as numbers (8.10 after 8.9)', version: '8.9', known: ['8.9', '8.10'], want: '8.10' },
    { name: 'a lock without a minor never uses the vault', version: '9', known: ['9.6'], want: undefined },
  ])('$name', ({ version, known, want }) => expect(newerElMinor(version, known)).toBe(want));
});

describe('renderPlan', () => {
  it('lists the driver alternatives per GPU node kernel, preferred first', () => {
    const text = renderPlan(planBundle(rocky, gpuCluster, { gpuDriverSets: gpuDriverSets(rocky, ['5.14.0-427.13.1.el9_4.x86_64']) }));
    expect(text).toContain(
      'NVIDIA driver per GPU node kernel (the first that resolves is carried) (3):\n  5.14.0-427.13.1.el9_4.x86_64:\n    precompiled: @nvidia-driver:580-open-gpu kmod-nvidia-open-580.126.18-5.14.0-427.13.1 nvidia-driver-cuda\n    else dkms: kernel-devel-5.14.0-427.13.1.el9_4.x86_64 ',
    );
  });

  it('lists every upstream after mirrors, and what was left out', () => {
    const text = renderPlan(planBundle(debian, { ...gpuCluster, nvidiaDriverInstaller: true }));
    expect(text).toMatch(/^bundle gpu-cluster for debian 12 \(linux\/amd64\); manifests point at registry.ferry.internal:5000$/m);
    expect(text).toMatch(/^  http:\/\/deb.debian.org\/debian bookworm main contrib non-free-firmware$/m);
    expect(text).toMatch(/^  registry\/2.8.3\/registry <- https:\/\/github.com\/distribution\/distribution\/releases\/download\/v2.8.3\/registry_2.8.3_linux_amd64.tar.gz \(sha256 from https:\/\/github.com\/.*\.tar\.gz\.sha256\)$/m);
    expect(text).toMatch(/^left out \(1\):\n  NVIDIA driver installer: the lock has no NVIDIA driver$/m);
  });
});

describe('templates', () => {
  const vars = templateVariables(rocky);
  it.each([
    ['kube-{kubernetesMinor}-{arch}', 'kube-1.33-amd64'],
    ['{osId}-{osVersion}/{basearch}', 'rocky-9.4/x86_64'],
    ['plain', 'plain'],
    ['{imageTag.pause}/{imageTag.kube-apiserver}', '3.10/1.33.13'],
  ])('expands %s', (t, want) => expect(expand(t, vars, 'x')).toBe(want));
  it('returns null when the lock has no value (no GPU, no such image)', () => {
    expect(expand('{nvidiaDriver}', templateVariables(debian), 'x')).toBeNull();
    expect(expand('{imageTag.k8s-device-plugin}', templateVariables(debian), 'x')).toBeNull();
  });
  it('names an unknown placeholder and where it is', () => expect(() => expand('{kubernets}', vars, 'files[2].url')).toThrow(UserError));
});
