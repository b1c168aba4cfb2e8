import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { buildSbom, purlOf } from '../../src/bundle/sbom.ts';

const sha = 'c'.repeat(64);
const art = (a: Partial<Artifact> & Pick<Artifact, 'kind' | 'path'>): Artifact => ({ size: 1, sha256: sha, source: 'https://example.org/x', ...a });

describe('purlOf (package-url spec types rpm, deb, oci, generic)', () => {
  it.each([
    ['an RPM', art({ kind: 'package', path: 'packages/rocky-9.4/x86_64/containerd.io-1.7.27-3.1.el9.x86_64.rpm', name: 'containerd.io', version: '1.7.27', release: '3.1.el9', arch: 'x86_64' }), 'rocky', 'pkg:rpm/rocky/containerd.io@1.7.27-3.1.el9?arch=x86_64'],
    ['a deb with an epoch', art({ kind: 'package', path: 'packages/debian-12/amd64/socat_1.7.4.4-2_amd64.deb', name: 'socat', version: '1:1.7.4.4-2', arch: 'amd64' }), 'debian', 'pkg:deb/debian/socat@1%3A1.7.4.4-2?arch=amd64'],
    ['an image manifest', art({ kind: 'image-index', path: `images/blobs/sha256/${sha}`, name: 'registry.k8s.io/pause:3.10', digest: `sha256:${sha}` }), 'x', `pkg:oci/pause@sha256%3A${sha}?repository_url=registry.k8s.io%2Fpause`],
    ['a file', art({ kind: 'file', path: 'files/kubernetes/1.33.1/kubeadm', name: 'kubeadm', version: '1.33.1' }), 'x', `pkg:generic/kubeadm@1.33.1?checksum=sha256:${sha}`],
  ])('names %s', (_n, a, os, want) => expect(purlOf(a, os)).toBe(want));
  it('has none for an image blob', () => expect(purlOf(art({ kind: 'image-blob', path: 'images/blobs/sha256/x' }), 'x')).toBeUndefined());
});

// Facts from the SPDX 2.3 JSON schema (spdx/spdx-spec schemas/spdx-schema.json): a package allows only these keys
// (additionalProperties: false), requires SPDXID, downloadLocation and name; SPDXIDs match ^SPDXRef-[a-zA-Z0-9.-]+$;
// dates are UTC `YYYY-MM-DDThh:mm:ssZ`.
const SPDX_PACKAGE_KEYS = ['SPDXID', 'annotations', 'attributionTexts', 'builtDate', 'checksums', 'comment', 'copyrightText', 'description', 'downloadLocation', 'externalRefs', 'filesAnalyzed', 'hasFiles', 'homepage', 'licenseComments', 'licenseConcluded', 'licenseDeclared', 'licenseInfoFromFiles', 'name', 'originator', 'packageFileName', 'packageVerificationCode', 'primaryPackagePurpose', 'releaseDate', 'sourceInfo', 'summary', 'supplier', 'validUntilDate', 'versionInfo'];
const SPDX_PURPOSES = ['OTHER', 'INSTALL', 'ARCHIVE', 'FIRMWARE', 'APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'SOURCE', 'DEVICE', 'OPERATING-SYSTEM', 'FILE'];

describe('buildSbom', () => {
  const doc = buildSbom({
    name: 'b',
    createdAt: '2026-11-23T00:00:00Z',
    osId: 'rocky',
    toolVersion: '0.1.0',
    artifacts: [
      art({ kind: 'package', path: 'packages/r/x86_64/a-1-1.x86_64.rpm', name: 'a', version: '1', release: '1', arch: 'x86_64' }),
      art({ kind: 'image-blob', path: 'images/blobs/sha256/aa' }),
      art({ kind: 'image-index', path: 'images/index.json' }),
      art({ kind: 'repo-metadata', path: 'packages/r/x86_64/repodata/repomd.xml' }),
    ],
  }) as { spdxVersion: string; dataLicense: string; SPDXID: string; documentNamespace: string; creationInfo: { creators: string[] }; packages: { SPDXID: string; versionInfo: string; downloadLocation: string }[] };

  it('has the SPDX 2.3 document fields and one package per package, image manifest or file (not blobs or metadata)', () => {
    expect(doc).toMatchObject({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', creationInfo: { creators: ['Tool: ferry-0.1.0'] } });
    expect(doc.documentNamespace).toMatch(/^https:\/\/ferry.dev\/spdx\/b-[0-9a-f]{16}$/);
    expect(doc.packages).toHaveLength(1);
    expect(doc.packages[0]).toMatchObject({ versionInfo: '1-1', downloadLocation: 'https://example.org/x' });
    expect(doc.packages[0]!.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
  });

  it('uses only fields and values the SPDX 2.3 schema allows for packages, with its required ones', () => {
    const all = buildSbom({
      name: 'b',
      createdAt: '2026-11-23T00:00:00Z',
      osId: 'debian',
      toolVersion: '0.1.0',
      artifacts: [
        art({ kind: 'package', path: 'packages/d/amd64/socat_1.7.4.4-2_amd64.deb', name: 'socat', version: '1.7.4.4-2', arch: 'amd64' }),
        art({ kind: 'image-index', path: `images/blobs/sha256/${sha}`, name: 'registry.k8s.io/pause:3.10', digest: `sha256:${sha}` }),
        art({ kind: 'file', path: 'files/kubernetes/1.33.1/kubeadm', name: 'kubeadm', version: '1.33.1' }),
        art({ kind: 'binary', path: 'bin/ferry', name: 'ferry', version: '0.1.0', source: 'ferry 0.1.0' }),
        art({ kind: 'manifest', path: 'manifests/calico/3.30.2/calico.yaml', name: 'calico.yaml', version: '3.30.2' }),
      ],
    }) as { creationInfo: { created: string }; packages: Record<string, unknown>[] };
    expect(all.creationInfo.created).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/);
    expect(all.packages).toHaveLength(5);
    for (const p of all.packages) {
      expect(Object.keys(p).filter((k) => !SPDX_PACKAGE_KEYS.includes(k))).toEqual([]);
      for (const k of ['SPDXID', 'downloadLocation', 'name']) expect(p[k]).toEqual(expect.any(String));
      expect(SPDX_PURPOSES).toContain(p.primaryPackagePurpose);
      expect(p.packageFileName).not.toContain('/');
    }
  });
});
