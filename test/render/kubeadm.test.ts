import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderKubeadmInit, renderKubeadmJoin, type KubeadmClusterInput } from '../../src/render/kubeadm.ts';
import { UserError } from '../../src/errors.ts';
import { redact } from '../../src/hosts/redact.ts';
import { controlPlanes, registry, vip } from './fixtures.ts';
import { ClusterConfiguration, InitConfiguration, JoinConfiguration, KubeletConfiguration } from './kube-api.ts';

// Secrets are made per run (never committed); snapshots hold them redacted.
const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
const token = `${alnum(6)}.${alnum(16)}`;
const certificateKey = randomBytes(32).toString('hex');
const caHash = `sha256:${createHash('sha256').update('test CA public key').digest('hex')}`;

const cluster: KubeadmClusterInput = {
  clusterName: 'gpu-lab',
  kubelet: { kubernetesVersion: '1.33.4', cgroup: 'v2', cri: 'containerd' },
  controlPlaneEndpoint: `${vip}:8443`,
  loadBalancer: 'vip',
  imageRepository: `${registry.name}/registry.k8s.io`,
  imageTags: { etcd: '3.5.21-0', coredns: 'v1.12.0' },
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  certSANs: ['api.gpu-lab.internal'],
  nodeAddresses: [...controlPlanes.map((c) => c.address), '10.20.0.21'],
};
const nodeLocal: KubeadmClusterInput = { ...cluster, controlPlaneEndpoint: '127.0.0.1:6444', loadBalancer: 'node-local', kubelet: { ...cluster.kubelet, cri: 'cri-o', cgroup: 'v1' } };
const worker = { name: 'gpu-1', address: '10.20.0.21', taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const }] };

const rows = [
  { name: 'init-vip', file: () => renderKubeadmInit({ cluster, node: controlPlanes[0]!, bootstrapToken: token, certificateKey }), kinds: ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration'] },
  { name: 'init-node-local-crio', file: () => renderKubeadmInit({ cluster: nodeLocal, node: controlPlanes[0]!, bootstrapToken: token, certificateKey }), kinds: ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration'] },
  { name: 'join-control-plane', file: () => renderKubeadmJoin({ cluster, node: controlPlanes[1]!, bootstrapToken: token, caCertHashes: [caHash], certificateKey }), kinds: ['JoinConfiguration'] },
  { name: 'join-gpu-worker', file: () => renderKubeadmJoin({ cluster, node: worker, bootstrapToken: token, caCertHashes: [caHash] }), kinds: ['JoinConfiguration'] },
];

const schemas: Record<string, { parse: (x: unknown) => unknown }> = { InitConfiguration, ClusterConfiguration, JoinConfiguration, KubeletConfiguration };

function docsOf(text: string): Record<string, any>[] {
  const docs = parseAllDocuments(text);
  for (const d of docs as any[]) expect(d.errors ?? []).toEqual([]);
  return (docs as any[]).map((d) => d.toJS());
}

describe('kubeadm config', () => {
  it.each(rows)('$name: renders the expected file, secrets redacted', async ({ name, file }) => {
    const f = file();
    const shown = redact(f.content, f.secrets);
    expect(shown).not.toContain(token);
    expect(shown).not.toContain(certificateKey);
    await expect(shown).toMatchFileSnapshot(`__snapshots__/kubeadm-${name}.yaml`);
  });

  it.each(rows)('$name: every document matches the v1beta4 / kubelet v1beta1 field names', ({ file, kinds }) => {
    const docs = docsOf(file().content);
    expect(docs.map((d) => d.kind)).toEqual(kinds);
    for (const d of docs) schemas[d.kind]!.parse(d);
  });

  it.each(rows)('$name: lists every secret it holds and is owner-only', ({ name, file }) => {
    const f = file();
    expect(f.mode).toBe(0o600);
    expect(f.secrets).toEqual(name === 'join-gpu-worker' ? [token] : [token, certificateKey]);
  });

  it('points the cluster at the VIP and the local registry, with coredns kept at its upstream path', () => {
    const [, cc] = docsOf(renderKubeadmInit({ cluster, node: controlPlanes[0]!, bootstrapToken: token, certificateKey }).content);
    expect(cc!.controlPlaneEndpoint).toBe('10.20.0.100:8443');
    expect(cc!.imageRepository).toBe('registry.ferry.internal:5000/registry.k8s.io');
    expect(cc!.dns.imageRepository).toBe('registry.ferry.internal:5000/registry.k8s.io/coredns');
    expect(cc!.apiServer.certSANs).toEqual(['10.20.0.100', 'api.gpu-lab.internal']);
  });

  it('adds localhost to the SANs and keeps failCgroupV1 false on a cgroup v1 node-local cluster', () => {
    const [init, cc, kubelet] = docsOf(renderKubeadmInit({ cluster: nodeLocal, node: controlPlanes[0]!, bootstrapToken: token, certificateKey }).content);
    expect(cc!.apiServer.certSANs).toEqual(['127.0.0.1', 'localhost', 'api.gpu-lab.internal']);
    expect(kubelet!.failCgroupV1).toBe(false);
    expect(init!.nodeRegistration.criSocket).toBe('unix:///var/run/crio/crio.sock');
  });

  it('joins a worker without a control-plane section and pins the CA', () => {
    const [join] = docsOf(renderKubeadmJoin({ cluster, node: worker, bootstrapToken: token, caCertHashes: [caHash] }).content);
    expect(join!.controlPlane).toBeUndefined();
    expect(join!.discovery.bootstrapToken).toEqual({ token, apiServerEndpoint: '10.20.0.100:8443', caCertHashes: [caHash] });
    expect(join!.nodeRegistration.taints).toEqual(worker.taints);
  });

  it.each([
    ['an endpoint that is a node', { ...cluster, controlPlaneEndpoint: '10.20.0.11:6443' }],
    ['a node-local endpoint that is not loopback', { ...nodeLocal, controlPlaneEndpoint: '10.20.0.100:6444' }],
    ['an endpoint without port', { ...cluster, controlPlaneEndpoint: '10.20.0.100' }],
    ['Kubernetes 1.30 (no v1beta4)', { ...cluster, kubelet: { ...cluster.kubelet, kubernetesVersion: '1.30.9' } }],
  ])('refuses %s', (_n, bad) => {
    expect(() => renderKubeadmInit({ cluster: bad, node: controlPlanes[0]!, bootstrapToken: token, certificateKey })).toThrow(UserError);
  });

  it.each([
    ['a malformed token', { bootstrapToken: 'abc.def' }],
    ['a short certificate key', { certificateKey: 'abcd' }],
    ['no CA hash', { caCertHashes: [] }],
    ['a CA hash without sha256:', { caCertHashes: ['a'.repeat(64)] }],
  ])('refuses a join with %s, without echoing secrets', (_n, change) => {
    const input = { cluster, node: controlPlanes[1]!, bootstrapToken: token, caCertHashes: [caHash], certificateKey, ...change };
    let error: unknown;
    try {
      renderKubeadmJoin(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(String((error as Error).message)).not.toContain(token.split('.')[1]!);
  });
});
