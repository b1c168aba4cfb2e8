// Every path inside a bundle, named in one place (after zarf's layout constants).
export const BundleLayout = {
  manifest: 'manifest.yaml',
  signature: 'manifest.yaml.sig',
  publicKey: 'ferry.pub',
  checksums: 'SHA256SUMS',
  sbom: 'sbom.spdx.json',
  lock: 'ferry.lock.yaml',
  /** OS packages: packages/<os-id>-<version>/<arch>/ holds one repository (rpm + repodata, or debs + Packages). */
  packagesDir: 'packages',
  packageRepo: (osId: string, osVersion: string, arch: string) => `packages/${osId}-${osVersion}/${arch}`,
  /** One OCI image layout for all images: images/oci-layout, images/index.json, images/blobs/sha256/<hex>. */
  imagesDir: 'images',
  imageBlob: (hex: string) => `images/blobs/sha256/${hex}`,
  imageIndex: 'images/index.json',
  imageLayoutMarker: 'images/oci-layout',
  /** Plain files: files/<component>/<version>/<name> (kube binaries, CNI plugins, crictl, driver installers). */
  filesDir: 'files',
  file: (component: string, version: string, name: string) => `files/${component}/${version}/${name}`,
  /** Kubernetes manifests rewritten to the local registry. */
  manifestsDir: 'manifests',
  k8sManifest: (component: string, version: string, name: string) => `manifests/${component}/${version}/${name}`,
  /** The ferry executable itself. */
  binary: 'bin/ferry',
  /** Present only in a delta bundle: the base it applies onto and which artifacts it carries. */
  delta: 'delta.yaml',
  /** Split packing: numbered tar chunks and the small index that lists them with their checksums. */
  chunk: (index: number) => `ferry-bundle.tar.${String(index).padStart(3, '0')}`,
  chunkIndex: 'ferry-bundle.index.yaml',
} as const;

/** Files that describe the bundle rather than belong to it: read whole by verify (ferry.pub and delta.yaml are
 * documents in the manifest, the other three cannot be: see unlistedFiles). */
export const bundleMetadataFiles: readonly string[] = [
  BundleLayout.manifest,
  BundleLayout.signature,
  BundleLayout.publicKey,
  BundleLayout.checksums,
  BundleLayout.delta,
];

/** The only files a manifest cannot list (it signs or is summed by them, or is itself): never reported as extra. */
export const unlistedFiles: readonly string[] = [BundleLayout.manifest, BundleLayout.signature, BundleLayout.checksums];
