// The pure parts of the Kubernetes phases, table-driven: pkgs.k8s.io version strings, join credentials and the
// two-hour life of uploaded certificates, the Calico patch on upstream's manifest, and the cluster health verdicts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inventory } from '../../../src/config/inventory.ts';
import { parseYaml } from '../../../src/config/parse.ts';
import { patchCalicoManifest, type CalicoSettings } from '../../../src/phases/kube/calico-patch.ts';
import { expectedPods, notReadyNodes, podsNotRunning } from '../../../src/phases/kube/cluster-health.ts';
import { caCertHash, certsNeedUpload, listedTokenIds, newBootstrapToken, newCertificateKey, tokenId } from '../../../src/phases/kube/join-secrets.ts';
import { kubePackageSpecs, kubePackageVersion, wrongKubePackages } from '../../../src/phases/kube/package-versions.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('pkgs.k8s.io package versions', () => {
  it.each([
    { name: 'deb', family: 'debian' as const, version: '1.33.1', want: '1.33.1-1.1', specs: ['kubeadm=1.33.1-1.1', 'kubelet=1.33.1-1.1', 'kubectl=1.33.1-1.1'] },
    { name: 'rpm', family: 'el' as const, version: 'v1.29.0', want: '1.29.0-150500.1.1', specs: ['kubeadm-1.29.0-150500.1.1', 'kubelet-1.29.0-150500.1.1', 'kubectl-1.29.0-150500.1.1'] },
  ])('$name: $version → $want', ({ family, version, want, specs }) => {
    expect(kubePackageVersion(family, version)).toBe(want);
    expect(kubePackageSpecs(family, version)).toEqual(specs);
  });

  it('refuses a version that is not MAJOR.MINOR.PATCH', () => {
    expect(() => kubePackageVersion('debian', '1.33')).toThrow(/must look like 1\.33\.1/);
  });

  it.each([
    { name: 'nothing installed', out: '', wrong: ['kubeadm', 'kubelet', 'kubectl'] },
    { name: 'all at the version', out: 'kubeadm 1.33.1-1.1 ii \nkubectl 1.33.1-1.1 ii \nkubelet 1.33.1-1.1 ii \n', wrong: [] },
    { name: 'all at the version and held (dpkg says hi)', out: 'kubeadm 1.33.1-1.1 hi \nkubectl 1.33.1-1.1 hi \nkubelet 1.33.1-1.1 hi \n', wrong: [] },
    { name: 'one older, one removed with config left', out: 'kubeadm 1.33.0-1.1 ii \nkubectl 1.33.1-1.1 rc \nkubelet 1.33.1-1.1 ii \n', wrong: ['kubeadm', 'kubectl'] },
  ])('wrong packages: $name', ({ out, wrong }) => {
    expect(wrongKubePackages('debian', '1.33.1', out)).toEqual(wrong);
  });
});

describe('join credentials', () => {
  it('makes tokens and certificate keys in the formats kubeadm accepts, never the same twice', () => {
    const tokens = Array.from({ length: 50 }, newBootstrapToken);
    for (const t of tokens) expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(new Set(tokens).size).toBe(50);
    expect(newCertificateKey()).toMatch(/^[a-f0-9]{64}$/);
    expect(tokenId('abcdef.0123456789abcdef')).toBe('abcdef');
    expect(() => tokenId('ABCDEF.0123456789abcdef')).toThrow(/must match/);
  });

  it('pins the CA exactly as kubeadm documents it (openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-ca-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=kubernetes'], { stdio: 'ignore' });
      const openssl = execFileSync('sh', ['-c', `openssl x509 -pubkey -in ${join(dir, 'ca.crt')} | openssl pkey -pubin -outform der | sha256sum`]).toString().split(' ')[0];
      expect(caCertHash(readFileSync(join(dir, 'ca.crt'), 'utf8'))).toBe(`sha256:${openssl}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => caCertHash('not a certificate')).toThrow(/not a PEM certificate/);
  });

  const at = new Date('2026-11-23T12:00:00Z');
  const minutes = (m: number) => new Date(at.getTime() + m * 60_000);
  it.each([
    { name: 'never uploaded', uploaded: undefined, now: at, upload: true },
    { name: 'just uploaded', uploaded: at, now: minutes(1), upload: false },
    { name: '1 h 44 min old', uploaded: at, now: minutes(104), upload: false },
    { name: '1 h 45 min old (inside the 15 min margin)', uploaded: at, now: minutes(105), upload: true },
    { name: '3 h old (kubeadm deleted them)', uploaded: at, now: minutes(180), upload: true },
    { name: 'uploaded "in the future" (clock moved back)', uploaded: minutes(10), now: at, upload: true },
  ])('certificates: $name → upload again: $upload', ({ uploaded, now, upload }) => {
    expect(certsNeedUpload(uploaded, now)).toBe(upload);
  });

  it('reads token ids from kubeadm token list -o json (one object per token)', () => {
    // Output shape of `kubeadm token list -o json` (output.kubeadm.k8s.io/v1alpha3 BootstrapToken objects, printed one after another).
    const out = '{\n    "kind": "BootstrapToken",\n    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",\n    "token": "abcdef.0123456789abcdef",\n    "ttl": "1h59m0s",\n    "usages": ["authentication", "signing"]\n}\n{\n    "kind": "BootstrapToken",\n    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",\n    "token": "zyx987.0123456789abcdef"\n}\n';
    expect(listedTokenIds(out)).toEqual(['abcdef', 'zyx987']);
    expect(listedTokenIds('')).toEqual([]);
    // As ferry's audited host returns it: the secret half redacted, the id still there.
    expect(listedTokenIds('{\n    "kind": "BootstrapToken",\n    "token": "abcdef.<redacted>"\n}\n')).toEqual(['abcdef']);
  });
});

describe('the Calico patch', () => {
  const base: CalicoSettings = { encapsulation: 'vxlan', iptablesBackend: 'NFT', podCidr: '10.244.0.0/16' };
  const env = (text: string) => {
    const ds = parseAllDocuments(text).map((d) => d.toJS()).find((d) => d?.kind === 'DaemonSet');
    const c = ds.spec.template.spec.containers.find((x: { name: string }) => x.name === 'calico-node');
    return Object.fromEntries(c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? 'valueFrom']));
  };
  it.each([
    { name: 'VXLAN, NFT, MTU 1450', s: { ...base, mtu: 1450 }, want: { CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Always', FELIX_IPTABLESBACKEND: 'NFT', CALICO_IPV4POOL_CIDR: '10.244.0.0/16', FELIX_VXLANMTU: '1450', FELIX_IPINIPMTU: '1450' } },
    { name: 'IP-in-IP, Legacy, MTU auto', s: { ...base, encapsulation: 'ipip' as const, iptablesBackend: 'Legacy' as const, podCidr: '192.168.0.0/16' }, want: { CALICO_IPV4POOL_IPIP: 'Always', CALICO_IPV4POOL_VXLAN: 'Never', FELIX_IPTABLESBACKEND: 'Legacy', CALICO_IPV4POOL_CIDR: '192.168.0.0/16', FELIX_VXLANMTU: 'valueFrom', FELIX_IPINIPMTU: 'valueFrom' } },
  ])('$name', ({ s, want }) => {
    const out = patchCalicoManifest(fixture('calico-trimmed.yaml'), s);
    expect(env(out)).toMatchObject({ ...want, DATASTORE_TYPE: 'kubernetes', CALICO_IPV6POOL_VXLAN: 'Never' });
    // Everything else as upstream wrote it: same objects, same images, the ConfigMap untouched.
    const kinds = (t: string) => parseAllDocuments(t).map((d) => d.toJS()).filter(Boolean).map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds(out)).toEqual(kinds(fixture('calico-trimmed.yaml')));
    expect(out).toContain('image: docker.io/calico/node:master');
    expect(out).toContain('veth_mtu: "0"');
    expect(parseAllDocuments(out).filter((d) => d.contents === null)).toEqual([]);
  });

  it.each([
    { name: 'no calico-node DaemonSet', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', error: /no calico-node DaemonSet/ },
    { name: 'not YAML', text: 'kind: [', error: /not valid YAML/ },
  ])('refuses a manifest with $name', ({ text, error }) => {
    expect(() => patchCalicoManifest(text, base, 'manifests/calico/3.30.2/calico.yaml')).toThrow(error);
  });

  it('refuses an MTU no link has', () => {
    expect(() => patchCalicoManifest(fixture('calico-trimmed.yaml'), { ...base, mtu: 100 })).toThrow(/MTU must be/);
  });
});

describe('cluster health', () => {
  const inventory = parseYaml(readFileSync(new URL('../../render/fixtures/cluster.yaml', import.meta.url), 'utf8'), 'cluster.yaml', Inventory);
  it('names nodes that are NotReady or missing, with the reason the kubelet gives', () => {
    expect(notReadyNodes(fixture('nodes-one-not-ready.json'), ['cp-1', 'gpu-1', 'gpu-2'])).toEqual([
      { node: 'gpu-1', reason: 'Ready=False (KubeletNotReady)' },
      { node: 'gpu-2', reason: 'not registered with the API server' },
    ]);
  });

  it('expects the static pods on every control plane and calico-node on every node', () => {
    const pods = expectedPods(inventory);
    expect(pods).toHaveLength(3 * 4 + 5);
    expect(pods).toContainEqual({ prefix: 'kube-apiserver-', namespace: 'kube-system', node: 'cp-3' });
    expect(pods).toContainEqual({ prefix: 'calico-node-', namespace: 'kube-system', node: 'gpu-2' });
  });

  it('names the pods that are not Running on their node', () => {
    const one = inventory.hosts.filter((h) => ['cp-1', 'gpu-1'].includes(h.name));
    const pods = expectedPods({ ...inventory, hosts: one });
    expect(podsNotRunning(fixture('pods-kube-system.json'), pods)).toEqual([{ pod: 'kube-system/calico-node-* on gpu-1', reason: 'Pending (ImagePullBackOff)' }]);
  });

  it('says so when kubectl printed something that is not a list', () => {
    expect(() => notReadyNodes('error: You must be logged in', ['cp-1'])).toThrow(/unreadable node JSON/);
  });
});
