import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { parseYaml } from '../../src/config/parse.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { Lock } from '../../src/config/lock.ts';
import { registryCertificateSans, renderNodeFiles, type NodeFilesInput } from '../../src/render/node-files.ts';
import { UserError } from '../../src/errors.ts';
import { redact } from '../../src/hosts/redact.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { chooseEncapsulation, firewallEncapsulation } from '../../src/phases/encapsulation.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const inventory = parseYaml(fixture('cluster.yaml'), 'cluster.yaml', Inventory);
const lock = parseYaml(fixture('ferry.lock.yaml'), 'ferry.lock.yaml', Lock);
const caPem = '-----BEGIN CERTIFICATE-----\nTEST-ONLY-NOT-A-REAL-CERTIFICATE\n-----END CERTIFICATE-----\n';
const authPass = Math.random().toString(36).slice(2, 10);
const base: NodeFilesInput = {
  inventory,
  lock,
  host: 'cp-1',
  registry: { name: 'registry.ferry.internal', port: 5000, caPath: '/etc/ferry/pki/ca.crt', caPem },
  encapsulation: firewallEncapsulation(chooseEncapsulation(inventory)),
  vrrp: { interface: 'eth0', virtualRouterId: 51, authPass },
};

const paths = (host: string, input = base) => renderNodeFiles({ ...input, host }).map((f) => f.path);

describe('renderNodeFiles', () => {
  it.each(['cp-1', 'gpu-1'])('%s: renders the expected set of files (secrets redacted)', async (host) => {
    const files = renderNodeFiles({ ...base, host });
    const text = files.map((f) => `### ${f.path} (mode ${f.mode.toString(8)})\n${redact(f.content, f.secrets)}`).join('\n');
    expect(text).not.toContain(authPass);
    await expect(text).toMatchFileSnapshot(`__snapshots__/node-files-${host}.txt`);
  });

  it('gives a control plane the balancer, the VIP and a registry replica; a GPU worker none of them', () => {
    const cp = paths('cp-1');
    for (const p of ['/etc/haproxy/haproxy.cfg', '/etc/keepalived/keepalived.conf', '/etc/ferry/registry/config.yml', '/etc/systemd/system/ferry-registry.service'])
      expect(cp).toContain(p);
    const gpu = paths('gpu-1');
    expect(gpu.filter((p) => /haproxy|keepalived|registry\/config/.test(p))).toEqual([]);
    expect(gpu).toContain('/etc/containerd/certs.d/nvcr.io/hosts.toml');
  });

  it('carries the tool check for every file a tool on the node can check before it goes live', () => {
    const checked = renderNodeFiles(base).filter((f) => f.verify).map((f) => [f.path, verifyArgv(f, '/tmp/staged')!.join(' ')]);
    expect(checked).toEqual([
      ['/etc/nftables.d/ferry.nft', 'nft -c -f /tmp/staged'],
      ['/etc/systemd/system/ferry-firewall.service', 'systemd-analyze verify /tmp/staged'],
      ['/etc/containerd/config.toml', 'containerd --config /tmp/staged config dump'],
      ['/etc/haproxy/haproxy.cfg', 'haproxy -c -f /tmp/staged'],
      ['/etc/keepalived/keepalived.conf', 'keepalived -t -l -f /tmp/staged'],
      ['/etc/systemd/system/ferry-registry.service', 'systemd-analyze verify /tmp/staged'],
    ]);
  });

  it('names every replica, the VIP and the registry name in the registry certificate', () => {
    expect(registryCertificateSans(base)).toEqual([
      { type: 'IP', value: '10.20.0.11' },
      { type: 'IP', value: '10.20.0.12' },
      { type: 'IP', value: '10.20.0.13' },
      { type: 'IP', value: '10.20.0.100' },
      { type: 'DNS', value: 'registry.ferry.internal' },
    ]);
  });

  it('runs GPU workers on the nvidia runtime and others on runc, both with the systemd cgroup driver', () => {
    const config = (host: string) => parse(renderNodeFiles({ ...base, host }).find((f) => f.path === '/etc/containerd/config.toml')!.content) as any;
    const cri = (host: string) => config(host).plugins['io.containerd.grpc.v1.cri'];
    expect(cri('gpu-1').containerd.default_runtime_name).toBe('nvidia');
    expect(cri('cp-1').containerd.default_runtime_name).toBe('runc');
    expect(cri('cp-1').sandbox_image).toBe('registry.ferry.internal:5000/registry.k8s.io/pause:3.10');
  });

  it('in node-local mode puts a loopback balancer on every node and no VIP anywhere', () => {
    const nodeLocal = { ...base, inventory: { ...inventory, network: { ...inventory.network, loadBalancer: 'node-local' as const, controlPlaneEndpoint: '127.0.0.1:6444' } } };
    for (const host of ['cp-1', 'gpu-2']) {
      const files = renderNodeFiles({ ...nodeLocal, host });
      expect(files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content).toContain('bind 127.0.0.1:6444');
      expect(files.some((f) => f.path.includes('keepalived'))).toBe(false);
    }
  });

  it('with dedicated lb and registry hosts, opens their ports there and not on the control planes', () => {
    const hosts = [
      ...inventory.hosts,
      { name: 'lb-1', address: '10.20.0.31', roles: ['lb' as const] },
      { name: 'lb-2', address: '10.20.0.32', roles: ['lb' as const] },
      { name: 'reg-1', address: '10.20.0.41', roles: ['registry' as const] },
    ];
    const dedicated = { ...base, inventory: { ...inventory, hosts, network: { ...inventory.network, controlPlaneEndpoint: '10.20.0.100:6443' } } };
    const nft = (host: string) => renderNodeFiles({ ...dedicated, host }).find((f) => f.path.endsWith('ferry.nft'))!.content;
    expect(nft('lb-1')).toMatch(/ip protocol vrrp ip saddr @balancers accept/);
    expect(nft('reg-1')).toMatch(/tcp dport 5000 ip saddr @cluster_nodes accept/);
    expect(nft('cp-1')).not.toMatch(/vrrp|dport 5000/);
    expect(paths('cp-1', dedicated).filter((p) => /keepalived|registry\/config/.test(p))).toEqual([]);
  });

  it('switches to CRI-O files when the lock picks CRI-O', () => {
    const crio = { ...base, lock: { ...lock, stack: { ...lock.stack, cri: { name: 'cri-o' as const, version: '1.33.3' } } } };
    expect(paths('gpu-1', crio).filter((p) => p.includes('crio') || p.includes('containers'))).toEqual([
      '/etc/crio/crio.conf.d/10-ferry.conf',
      '/etc/containers/registries.conf.d/10-ferry.conf',
      '/etc/containers/certs.d/10.20.0.11:5000/ca.crt',
      '/etc/containers/certs.d/10.20.0.12:5000/ca.crt',
      '/etc/containers/certs.d/10.20.0.13:5000/ca.crt',
    ]);
  });

  it.each([
    ['an unknown host', { host: 'nope' }],
    ['VIP mode without VRRP settings', { vrrp: undefined }],
    ['a VIP on 6443 while HAProxy shares the control planes with kube-apiserver', { inventory: { ...inventory, network: { ...inventory.network, controlPlaneEndpoint: '10.20.0.100:6443' } } }],
    ['a lock without a pause image', { lock: { ...lock, images: lock.images.filter((i) => !i.ref.includes('pause')) } }],
  ])('refuses %s', (_n, change) => {
    expect(() => renderNodeFiles({ ...base, ...change } as NodeFilesInput)).toThrow(UserError);
  });
});
