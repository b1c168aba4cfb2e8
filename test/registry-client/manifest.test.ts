import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { MediaType, parseManifest, parsePlatform, selectPlatform, type Descriptor } from '../../src/registry-client/manifest.ts';
import { backoffDelay } from '../../src/registry-client/retry.ts';

const d = (n: string) => `sha256:${n.repeat(64)}`;
// Shaped after the example manifest list in distribution's docs/spec/manifest-v2-2.md (ppc64le + amd64 with
// features), plus the arm64 and attestation entries that multi-arch images on Docker Hub carry today.
const LIST: Descriptor[] = [
  { mediaType: MediaType.dockerManifest, size: 7143, digest: d('1'), platform: { architecture: 'ppc64le', os: 'linux' } },
  { mediaType: MediaType.dockerManifest, size: 7682, digest: d('2'), platform: { architecture: 'amd64', os: 'linux' } },
  { mediaType: MediaType.dockerManifest, size: 7682, digest: d('3'), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  { mediaType: MediaType.dockerManifest, size: 7682, digest: d('4'), platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
  { mediaType: MediaType.ociManifest, size: 566, digest: d('5'), platform: { architecture: 'unknown', os: 'unknown' } },
];

describe('selectPlatform', () => {
  it.each([
    ['linux/amd64', d('2')],
    ['linux/arm64', d('3')],
    ['linux/arm64/v8', d('3')],
    ['linux/arm/v7', d('4')],
    ['linux/ppc64le', d('1')],
  ])('picks %s', (platform, digest) => {
    expect(selectPlatform(LIST, parsePlatform(platform))?.digest).toBe(digest);
  });

  it.each(['linux/s390x', 'linux/arm/v6', 'windows/amd64'])('finds nothing for %s', (platform) => {
    expect(selectPlatform(LIST, parsePlatform(platform))).toBeUndefined();
  });

  it('matches an arm64 entry without a variant for linux/arm64/v8', () => {
    const noVariant: Descriptor[] = [{ mediaType: MediaType.ociManifest, size: 1, digest: d('6'), platform: { architecture: 'arm64', os: 'linux' } }];
    expect(selectPlatform(noVariant, parsePlatform('linux/arm64/v8'))?.digest).toBe(d('6'));
  });

  it('refuses a malformed platform', () => {
    expect(() => parsePlatform('amd64')).toThrow(UserError);
    expect(() => parsePlatform('linux/arm/v7/x')).toThrow(UserError);
  });
});

describe('parseManifest', () => {
  const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));
  it('reads an index from its mediaType field', () => {
    const m = parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.dockerList, manifests: LIST }), undefined, 'x');
    expect(m).toMatchObject({ kind: 'index', mediaType: MediaType.dockerList });
  });

  it('reads an image manifest without a mediaType field from the Content-Type header', () => {
    const doc = { schemaVersion: 2, config: LIST[0], layers: [LIST[1]] };
    const m = parseManifest(bytes(doc), `${MediaType.ociManifest}; charset=utf-8`, 'x');
    expect(m).toMatchObject({ kind: 'image', mediaType: MediaType.ociManifest, layers: [{ digest: d('2') }] });
  });

  it.each([
    ['schema 1', { schemaVersion: 1, name: 'a', fsLayers: [] }, /schema 1/],
    ['not JSON', 'not json', /not JSON/],
    ['an unknown document', { schemaVersion: 2, mediaType: 'application/x-foo' }, /unknown manifest type/],
  ])('refuses %s', (_name, doc, message) => {
    const raw = typeof doc === 'string' ? Buffer.from(doc) : bytes(doc);
    expect(() => parseManifest(raw, undefined, 'x')).toThrow(message);
  });
});

describe('backoffDelay', () => {
  it.each([
    [2, 250],
    [3, 500],
    [4, 1000],
    [10, 8000],
  ])('waits before try %i: %i ms', (attempt, ms) => {
    expect(backoffDelay({ attempts: 10, baseDelayMs: 250, maxDelayMs: 8000 }, attempt)).toBe(ms);
  });
});
