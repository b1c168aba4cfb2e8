import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { formatImageReference, manifestSelector, parseImageReference } from '../../src/registry-client/reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

// Normalisation rows follow docker/distribution's reference package (ParseNormalizedNamed) behaviour.
describe('parseImageReference', () => {
  it.each([
    ['a Docker Hub official image', 'nginx', 'docker.io/library/nginx:latest'],
    ['a Docker Hub user image with a tag', 'calico/node:v3.29.1', 'docker.io/calico/node:v3.29.1'],
    ['the old Docker Hub host names', 'index.docker.io/library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['a registry with a dot', 'registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['a nested path', 'nvcr.io/nvidia/k8s-device-plugin:v0.17.0', 'nvcr.io/nvidia/k8s-device-plugin:v0.17.0'],
    ['a host:port registry', '127.0.0.1:5000/ferry/app-a:1.0', '127.0.0.1:5000/ferry/app-a:1.0'],
    ['localhost without a port', 'localhost/app', 'localhost/app:latest'],
    ['a digest only', `quay.io/cilium/cilium@${D}`, `quay.io/cilium/cilium@${D}`],
    ['a tag and a digest', `ghcr.io/a/b:v1@${D}`, `ghcr.io/a/b:v1@${D}`],
    ['a port and no tag', 'myreg:5000/team/app', 'myreg:5000/team/app:latest'],
  ])('normalises %s', (_name, input, canonical) => {
    expect(formatImageReference(parseImageReference(input))).toBe(canonical);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseImageReference(`127.0.0.1:5000/ferry/multi:1.0@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'ferry/multi',
      tag: '1.0',
      digest: D,
    });
  });

  it('asks for the digest when one is pinned, else the tag', () => {
    expect(manifestSelector(parseImageReference(`a.io/b:1@${D}`))).toBe(D);
    expect(manifestSelector(parseImageReference('a.io/b:1'))).toBe('1');
  });

  it.each([
    ['an empty string', ''],
    ['upper case in the repository', 'docker.io/Library/nginx'],
    ['a short digest', 'nginx@sha256:abc'],
    ['a sha512 digest', `nginx@sha512:${'a'.repeat(128)}`],
    ['a bad tag', 'nginx:-bad'],
    ['an empty repository', 'registry.k8s.io/:1'],
  ])('refuses %s with a UserError that shows the expected form', (_name, input) => {
    expect(() => parseImageReference(input)).toThrow(UserError);
    try {
      parseImageReference(input);
    } catch (error) {
      expect((error as UserError).hint).toMatch(/registry\[:port\]/);
    }
  });
});
