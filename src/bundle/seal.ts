// The last step of a build (and of a delta apply's bookkeeping): lock, SBOM, manifest.yaml, SHA256SUMS, signature.
import type { KeyObject } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from './artifact.ts';
import { renderSha256Sums } from './checksums.ts';
import { BundleLayout } from './layout.ts';
import { MANIFEST_API_VERSION, renderManifest, sortArtifacts, type BundleManifest } from './manifest.ts';
import { buildSbom } from './sbom.ts';
import { signManifest } from './sign.ts';
import { hashBytes } from '../util/hash.ts';

export interface SealInput {
  dir: string;
  name: string;
  createdAt: Date;
  platform: string;
  osId: string;
  lockText: string;
  artifacts: readonly Artifact[];
  base?: BundleManifest['base'];
  /** How the NVIDIA driver is carried for each GPU node kernel (src/bundle/gpu-drivers.ts). */
  gpuDrivers?: BundleManifest['gpuDrivers'];
  /** Built with --site: the site facts it covers. */
  site?: BundleManifest['site'];
  signing?: { privateKey: KeyObject; publicPem: string };
  toolVersion: string;
}

/** Writes `data` to `path` through a temporary name, so an interrupted build never leaves half a metadata file. */
async function writeAtomic(path: string, data: string): Promise<void> {
  await writeFile(`${path}.partial`, data);
  await rename(`${path}.partial`, path);
}

/** Writes every metadata file of a bundle whose artifacts are already in place; returns the manifest. */
export async function sealBundle(input: SealInput): Promise<{ manifest: BundleManifest; manifestText: string }> {
  const createdAt = input.createdAt.toISOString().replace(/\.\d+Z$/, 'Z');
  const artifacts = sortArtifacts(input.artifacts);
  const sbomText = `${JSON.stringify(buildSbom({ name: input.name, createdAt, osId: input.osId, artifacts, toolVersion: input.toolVersion }), null, 2)}\n`;
  await writeAtomic(join(input.dir, BundleLayout.lock), input.lockText);
  await writeAtomic(join(input.dir, BundleLayout.sbom), sbomText);
  // The public key and a delta's note are documents too, so the signed manifest and SHA256SUMS cover every file but
  // the signature (which the key checks) and themselves (SHA256SUMS is checked entry by entry against the manifest).
  if (input.signing) await writeAtomic(join(input.dir, BundleLayout.publicKey), input.signing.publicPem);
  else await rm(join(input.dir, BundleLayout.publicKey), { force: true });
  if (!input.base) await rm(join(input.dir, BundleLayout.delta), { force: true });
  const documents = [
    { path: BundleLayout.lock, ...hashBytes(Buffer.from(input.lockText)) },
    { path: BundleLayout.sbom, ...hashBytes(Buffer.from(sbomText)) },
    ...(input.signing ? [{ path: BundleLayout.publicKey, ...hashBytes(Buffer.from(input.signing.publicPem)) }] : []),
    ...(input.base ? [{ path: BundleLayout.delta, ...hashBytes(await readFile(join(input.dir, BundleLayout.delta))) }] : []),
  ];
  const manifest: BundleManifest = {
    apiVersion: MANIFEST_API_VERSION,
    kind: 'BundleManifest',
    name: input.name,
    createdAt,
    platform: input.platform,
    ...(input.base ? { base: input.base } : {}),
    ...(input.gpuDrivers?.length ? { gpuDrivers: input.gpuDrivers } : {}),
    ...(input.site ? { site: input.site } : {}),
    documents,
    artifacts,
  };
  const manifestText = renderManifest(manifest);
  // delta.yaml stays out of SHA256SUMS: `ferry bundle apply` leaves it behind, and `sha256sum -c` must pass there too.
  const sums = renderSha256Sums([
    ...documents.filter((d) => d.path !== BundleLayout.delta),
    ...artifacts,
    { path: BundleLayout.manifest, sha256: hashBytes(Buffer.from(manifestText)).sha256 },
  ]);
  await writeAtomic(join(input.dir, BundleLayout.manifest), manifestText);
  await writeAtomic(join(input.dir, BundleLayout.checksums), sums);
  if (input.signing) await writeAtomic(join(input.dir, BundleLayout.signature), signManifest(Buffer.from(manifestText), input.signing.privateKey));
  else await rm(join(input.dir, BundleLayout.signature), { force: true });
  return { manifest, manifestText };
}
