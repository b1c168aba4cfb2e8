import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { DEMO_PACKAGES, installedPackages, installLock, labLock, labSpec, upstreamVersion } from '../../src/demo/lab-inputs.ts';

// Version strings as `apt-cache policy` printed them on the Debian 12 machine (containerd, runc, openssh-client).
describe('upstreamVersion', () => {
  const rows: [string, string][] = [
    ['1.6.20~ds1-1+deb12u3', '1.6.20'],
    ['1.1.5+ds1-1+deb12u1', '1.1.5'],
    ['1:9.2p1-2+deb12u7', '9.2p1'],
    ['2.8.2+ds1-1', '2.8.2'],
    ['3.5', '3.5'],
  ];
  for (const [debian, upstream] of rows) it(`${debian} → ${upstream}`, () => expect(upstreamVersion(debian)).toBe(upstream));
});

describe('installedPackages', () => {
  it('lists the packages dpkg has installed, not those removed with their config kept', () => {
    const text = readFileSync(new URL('./fixtures/dpkg-status-excerpt.txt', import.meta.url), 'utf8');
    expect(installedPackages(text)).toEqual(['dbus', 'libc6', 'sudo']);
  });
});

describe('the lab lock and spec', () => {
  // The lock `ferry resolve --os rocky-9.4 --gpu h100 --k8s 1.33` wrote (test/bundle/fixtures, a real resolve).
  const example = Lock.parse(parse(readFileSync(new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8')));
  const lock = labLock({ example, containerd: '1.6.20~ds1-1+deb12u3', runc: '1.1.5+ds1-1+deb12u1', kernel: '6.1.0-37-amd64', resolvedAt: '2026-11-23T15:00:00.000Z' });

  it('is a valid lock for Debian 12 with the runtime Debian ships and the example Kubernetes, carrying no images', () => {
    expect(Lock.parse(lock)).toEqual(lock);
    expect(lock.stack).toMatchObject({ os: { id: 'debian', version: '12', family: 'debian' }, cri: { name: 'containerd', version: '1.6.20' }, runc: '1.1.5', kubernetes: example.stack.kubernetes, nvidiaDriver: null });
    expect(lock.images).toEqual([]);
    expect(lock.warnings[0]).toMatch(/not a resolved stack/);
  });

  it("gives install only the example's pause image, for containerd's sandbox image", () => {
    const refs = installLock(lock, example).images.map((i) => i.ref);
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatch(/\/pause:/);
  });

  it('asks for the demo packages from the given sources, minus what the node has, with the registry binary as a file:// upstream', () => {
    const sources = [{ uri: 'http://mirror.example/debian', suite: 'bookworm', components: ['main'] }];
    const spec = labSpec({ sources, installed: ['libc6', 'sudo'], registryBinary: { path: '/usr/bin/docker-registry', sha256: 'a'.repeat(64), version: '2.8.2+ds1-1' } });
    expect(BundleSpec.parse(spec)).toEqual(spec);
    expect(spec.os.debian!['12']!.packages).toEqual([...DEMO_PACKAGES]);
    expect(spec.closure).toEqual({ installed: ['libc6', 'sudo'] });
    expect(spec.files).toEqual([expect.objectContaining({ name: 'registry', url: 'file:///usr/bin/docker-registry', mode: 0o755 })]);
    const bare = labSpec({ sources });
    expect(bare.closure).toBe('full');
    expect(bare.files).toEqual([]);
  });
});
