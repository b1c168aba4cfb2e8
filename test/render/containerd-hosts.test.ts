import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { renderContainerdHosts, type ContainerdHostsInput } from '../../src/render/containerd-hosts.ts';
import { UserError } from '../../src/errors.ts';
import { images, registry } from './fixtures.ts';

const rows: { name: string; input: ContainerdHostsInput }[] = [
  { name: 'three-replicas', input: { registry, images } },
  {
    name: 'one-replica-fast-dial',
    input: { registry: { ...registry, replicas: ['10.20.0.11:5000'] }, images: ['registry.k8s.io/pause:3.10'], dialTimeout: '500ms' },
  },
];

describe('renderContainerdHosts', () => {
  it.each(rows)('$name: renders the expected files', async ({ name, input }) => {
    const files = renderContainerdHosts(input);
    const text = files.map((f) => `### ${f.path}\n${f.content}`).join('\n');
    await expect(text).toMatchFileSnapshot(`__snapshots__/containerd-hosts-${name}.txt`);
  });

  it('writes a hosts.toml for every upstream registry named by an image, and one for the local name', () => {
    const paths = renderContainerdHosts({ registry, images }).map((f) => f.path);
    expect(paths).toEqual([
      '/etc/containerd/certs.d/docker.io/hosts.toml',
      '/etc/containerd/certs.d/ghcr.io/hosts.toml',
      '/etc/containerd/certs.d/nvcr.io/hosts.toml',
      '/etc/containerd/certs.d/quay.io/hosts.toml',
      '/etc/containerd/certs.d/registry.k8s.io/hosts.toml',
      // host:port namespaces live in host_port_ (containerd docs/hosts.md, "Port Handling in Registry Host").
      '/etc/containerd/certs.d/registry.ferry.internal_5000_/hosts.toml',
    ]);
  });

  it('sends an upstream only to the replicas, each trusted through ferry\'s CA, with the server a replica too', () => {
    const file = renderContainerdHosts({ registry, images }).find((f) => f.path.includes('/registry.k8s.io/'))!;
    const toml = parse(file.content) as Record<string, any>;
    expect(toml.server).toBe('https://10.20.0.11:5000/v2/registry.k8s.io');
    expect(toml.override_path).toBe(true);
    expect(Object.keys(toml.host)).toEqual([
      'https://10.20.0.11:5000/v2/registry.k8s.io',
      'https://10.20.0.12:5000/v2/registry.k8s.io',
      'https://10.20.0.13:5000/v2/registry.k8s.io',
    ]);
    for (const host of Object.values<any>(toml.host)) {
      expect(host).toEqual({ capabilities: ['pull', 'resolve'], ca: '/etc/ferry/pki/ca.crt', override_path: true, dial_timeout: '2s' });
    }
    expect(file.content).not.toMatch(/skip_verify|registry-1\.docker\.io|http:\/\//);
  });

  it('maps the local name to the replicas\' plain /v2 root', () => {
    const file = renderContainerdHosts({ registry, images: [] }).at(-1)!;
    const toml = parse(file.content) as Record<string, any>;
    expect(toml.server).toBe('https://10.20.0.11:5000');
    expect(toml.override_path).toBeUndefined();
    expect(Object.keys(toml.host)).toHaveLength(3);
  });

  it.each([
    ['no replicas', { ...registry, replicas: [] }],
    ['a replica without port', { ...registry, replicas: ['10.20.0.11'] }],
    ['a replica with a scheme', { ...registry, replicas: ['https://10.20.0.11:5000'] }],
  ])('refuses %s', (_name, bad) => {
    expect(() => renderContainerdHosts({ registry: bad, images })).toThrow(UserError);
  });

  it('refuses a dial timeout containerd cannot parse', () => {
    expect(() => renderContainerdHosts({ registry, images, dialTimeout: 'soon' })).toThrow(UserError);
  });
});
