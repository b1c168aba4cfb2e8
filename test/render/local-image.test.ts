import { describe, expect, it } from 'vitest';
import { localImageRef, localRepository, upstreamRegistries } from '../../src/render/local-image.ts';
import { UserError } from '../../src/errors.ts';

// Normalization rules of docker/distribution reference.ParseNormalizedNamed (docker.io default, library/ prefix).
const rows = [
  { name: 'official hub image', ref: 'nginx:1.27', domain: 'docker.io', path: 'library/nginx', tag: '1.27' },
  { name: 'hub image with org', ref: 'calico/cni:v3.30.3', domain: 'docker.io', path: 'calico/cni', tag: 'v3.30.3' },
  { name: 'k8s image', ref: 'registry.k8s.io/coredns/coredns:v1.12.0', domain: 'registry.k8s.io', path: 'coredns/coredns', tag: 'v1.12.0' },
  { name: 'registry with port', ref: 'localhost:5000/a/b', domain: 'localhost:5000', path: 'a/b' },
  { name: 'index.docker.io alias', ref: 'index.docker.io/library/busybox:1', domain: 'docker.io', path: 'library/busybox', tag: '1' },
  {
    name: 'tag and digest',
    ref: `nvcr.io/nvidia/driver:580.82.07@sha256:${'a'.repeat(64)}`,
    domain: 'nvcr.io',
    path: 'nvidia/driver',
    tag: '580.82.07',
    digest: `sha256:${'a'.repeat(64)}`,
  },
];

describe('local image naming', () => {
  it.each(rows)('$name: $ref is stored under its upstream host', ({ ref, domain, path, tag, digest }) => {
    expect(localRepository(ref)).toBe(`${domain}/${path}`);
    expect(localImageRef(ref, 'reg:5000')).toBe(`reg:5000/${domain}/${path}${tag ? `:${tag}` : digest ? '' : ':latest'}${digest ? `@${digest}` : ''}`);
  });

  it('keeps the upstream host as the first path component in the local registry', () => {
    expect(localRepository('nginx:1.27')).toBe('docker.io/library/nginx');
    expect(localImageRef('registry.k8s.io/pause:3.10', 'registry.ferry.internal:5000')).toBe(
      'registry.ferry.internal:5000/registry.k8s.io/pause:3.10',
    );
  });

  it('lists each upstream registry once, sorted', () => {
    expect(upstreamRegistries(['quay.io/a/b:1', 'nginx', 'quay.io/c:2', 'registry.k8s.io/pause:3.10'])).toEqual([
      'docker.io',
      'quay.io',
      'registry.k8s.io',
    ]);
  });

  it.each(['UPPER/case:1', 'a//b', 'x:bad tag', 'x@sha256:short'])('refuses %s', (ref) => {
    expect(() => localRepository(ref)).toThrow(UserError);
  });
});
