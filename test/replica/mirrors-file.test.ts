import { describe, expect, it } from 'vitest';
import { applyMirrors } from '../../src/bundle/http/mirror.ts';
import { answerRange } from '../../src/replica/http-range.ts';
import { mirrorsDocument } from '../../src/replica/mirrors-file.ts';
import { UPSTREAM } from '../../src/replica/upstreams.ts';

describe('mirrorsDocument', () => {
  const doc = mirrorsDocument({
    origin: 'http://127.0.0.1:4000',
    debian: { archive: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' },
    registries: { 'registry.k8s.io': 'http://127.0.0.1:4001', 'nvcr.io': 'http://127.0.0.1:4002' },
  });
  const mirrors = Object.entries(doc.mirrors).map(([prefix, replacement]) => ({ prefix, replacement }));

  it.each([
    ['the Debian archive to the machine mirror', 'http://deb.debian.org/debian/dists/bookworm/InRelease', 'http://mirror.example/debian/dists/bookworm/InRelease'],
    ['debian-security by its longer prefix', 'http://deb.debian.org/debian-security/dists/bookworm-security/InRelease', 'http://mirror.example/debian-security/dists/bookworm-security/InRelease'],
    ['Docker to loopback under its host', `${UPSTREAM.docker}/gpg`, 'http://127.0.0.1:4000/download.docker.com/linux/debian/gpg'],
    ['pkgs.k8s.io keeping its colons', `${UPSTREAM.kubernetes('1.33')}Release.key`, 'http://127.0.0.1:4000/pkgs.k8s.io/core:/stable:/v1.33/deb/Release.key'],
    ['GitHub releases', UPSTREAM.distribution('2.8.3'), 'http://127.0.0.1:4000/github.com/distribution/distribution/releases/download/v2.8.3/registry_2.8.3_linux_amd64.tar.gz'],
  ])('maps %s', (_, url, want) => {
    expect(applyMirrors(url, mirrors)).toBe(want);
  });

  it('lists the registry fronts as mirrors and as insecure hosts, with the nvcr.io front\'s credential by its host', () => {
    expect(doc.registries).toEqual({
      mirrors: { 'registry.k8s.io': 'http://127.0.0.1:4001', 'nvcr.io': 'http://127.0.0.1:4002' },
      insecure: ['127.0.0.1:4001', '127.0.0.1:4002'],
      credentials: [{ registry: '127.0.0.1:4002', username: '$oauthtoken', passwordEnv: 'NGC_API_KEY' }],
    });
  });
});

describe('answerRange', () => {
  const base = { size: 100, etag: '"a"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' };
  it.each([
    ['no Range', {}, { status: 200 }],
    ['an open range', { range: 'bytes=10-' }, { status: 206, start: 10, end: 99 }],
    ['a closed range, clipped to the end', { range: 'bytes=10-500' }, { status: 206, start: 10, end: 99 }],
    ['If-Range matching the ETag', { range: 'bytes=10-', ifRange: '"a"' }, { status: 206, start: 10, end: 99 }],
    ['If-Range matching Last-Modified', { range: 'bytes=10-', ifRange: base.lastModified }, { status: 206, start: 10, end: 99 }],
    ['a stale If-Range', { range: 'bytes=10-', ifRange: '"b"' }, { status: 200 }],
    ['a start past the end', { range: 'bytes=100-' }, { status: 416 }],
    ['a suffix range (not supported: whole body)', { range: 'bytes=-10' }, { status: 200 }],
  ])('answers %s', (_, headers, want) => {
    expect(answerRange({ ...base, ...headers })).toEqual(want);
  });
});
