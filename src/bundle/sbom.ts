// The bundle's SBOM as SPDX 2.3 JSON: OS packages (name, version, release, arch), images (digests) and files. Pure.
import { createHash } from 'node:crypto';
import type { Artifact } from './artifact.ts';

export interface SbomInput {
  name: string;
  createdAt: string;
  /** OS id for package URLs (pkg:rpm/rocky/..., pkg:deb/debian/...). */
  osId: string;
  artifacts: readonly Artifact[];
  toolVersion: string;
}

interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  primaryPackagePurpose: string;
  checksums: { algorithm: 'SHA256'; checksumValue: string }[];
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: 'NOASSERTION';
  copyrightText: 'NOASSERTION';
  supplier: 'NOASSERTION';
  packageFileName?: string;
}

const enc = encodeURIComponent;

/** Package URL (purl spec) for an artifact, or undefined where none fits. */
export function purlOf(a: Artifact, osId: string): string | undefined {
  if (a.kind === 'package' && a.name && a.version) {
    const arch = a.arch ? `?arch=${enc(a.arch)}` : '';
    if (a.path.endsWith('.rpm')) return `pkg:rpm/${enc(osId)}/${enc(a.name)}@${enc(a.release ? `${a.version}-${a.release}` : a.version)}${arch}`;
    if (a.path.endsWith('.deb')) return `pkg:deb/${enc(osId)}/${enc(a.name)}@${enc(a.version)}${arch}`;
  }
  if (a.kind === 'image-index' && a.digest) {
    // pkg:oci/<last path segment>@<digest>?repository_url=<registry/repo without tag or digest>
    const repo = (a.name ?? a.source).replace(/@.*$/, '').replace(/:[^/:]+$/, '');
    const last = repo.split('/').pop() ?? repo;
    return `pkg:oci/${enc(last.toLowerCase())}@${enc(a.digest)}?repository_url=${enc(repo)}`;
  }
  if ((a.kind === 'file' || a.kind === 'binary') && a.name)
    return `pkg:generic/${enc(a.name)}${a.version ? `@${enc(a.version)}` : ''}?checksum=sha256:${a.sha256}`;
  return undefined;
}

function spdxId(kind: string, path: string): string {
  // SPDX ids allow letters, digits, '.', '-'; a short hash keeps them unique whatever the path holds.
  const slug = path.replace(/[^A-Za-z0-9.-]+/g, '-').slice(-60);
  return `SPDXRef-${kind}-${slug}-${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
}

const PURPOSE: Partial<Record<Artifact['kind'], string>> = {
  package: 'INSTALL',
  'image-index': 'CONTAINER',
  file: 'FILE',
  binary: 'APPLICATION',
  manifest: 'FILE',
};

/** Builds the SPDX document: image blobs and repository metadata are parts of images and repos, not entries. */
export function buildSbom(input: SbomInput): object {
  const packages: SpdxPackage[] = [];
  for (const a of input.artifacts) {
    const purpose = PURPOSE[a.kind];
    // index.json and oci-layout describe the layout, not an image: only image manifests (with a digest) are images.
    if (!purpose || (a.kind === 'image-index' && !a.digest)) continue;
    // A bundle for several OS releases: a package's OS is the one its repository is for (packages/<id>-<version>/).
    const purl = purlOf(a, /^packages\/([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-\d/.exec(a.path)?.[1] ?? input.osId);
    const version = a.kind === 'package' && a.release ? `${a.version}-${a.release}` : a.version;
    packages.push({
      name: a.name ?? a.path.split('/').pop()!,
      SPDXID: spdxId(a.kind, a.path),
      ...(version ? { versionInfo: version } : {}),
      downloadLocation: /^(https?|ftp|file):\/\//.test(a.source) ? a.source : 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: purpose,
      packageFileName: a.path.split('/').pop()!,
      checksums: [{ algorithm: 'SHA256', checksumValue: a.sha256 }],
      ...(purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER' as const, referenceType: 'purl' as const, referenceLocator: purl }] } : {}),
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      supplier: 'NOASSERTION',
    });
  }
  const contentHash = createHash('sha256').update(JSON.stringify(packages)).digest('hex').slice(0, 16);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.name,
    documentNamespace: `https://ferry.dev/spdx/${enc(input.name)}-${contentHash}`,
    creationInfo: { created: input.createdAt, creators: [`Tool: ferry-${input.toolVersion}`] },
    packages,
    relationships: packages.map((p) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: p.SPDXID })),
  };
}
