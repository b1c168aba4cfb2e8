// The replica's registry content: one small real image per upstream reference the caller names (the lock's
// images[].ref), made with umoci (a shared base layer plus a layer naming the reference) as an OCI index with an
// amd64 and an arm64 image, pushed with skopeo into a docker-registry storage per upstream registry under the
// repository name the real registry uses (registry.k8s.io's under its Artifact Registry path).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { parseImageReference, type ImageReference } from '../registry-client/reference.ts';
import { umoci, writeIndex } from './oci-build.ts';
import { startRegistry } from './registry-process.ts';
import { K8S_UPSTREAM_PATH, REGISTRIES, type ReplicaRegistry } from './upstreams.ts';

export interface SeededImage {
  /** The reference as the caller gave it. */
  ref: string;
  registry: ReplicaRegistry;
  /** Repository inside the replica registry's storage. */
  storedAs: string;
  tag: string;
}

/** Where a reference's image is stored in its registry's storage; refused for registries the replica does not run. */
export function storedImage(ref: string): SeededImage {
  const parsed: ImageReference = parseImageReference(ref);
  if (!(REGISTRIES as readonly string[]).includes(parsed.registry)) {
    throw new UserError(`the replica runs no registry for ${parsed.registry} (image ${ref})`, { hint: `it runs ${REGISTRIES.join(', ')}` });
  }
  if (!parsed.tag) throw new UserError(`image ${ref} names no tag: the replica makes its own images, so a pinned digest cannot match`);
  const registry = parsed.registry as ReplicaRegistry;
  const storedAs = registry === 'registry.k8s.io' ? `${K8S_UPSTREAM_PATH}/${parsed.repository}` : parsed.repository;
  return { ref, registry, storedAs, tag: parsed.tag };
}

/** Build the images for `refs` under `work` and push each into `storage/<registry>` (a registry per host, run briefly). */
export async function seedImages(refs: readonly string[], work: string, storage: (registry: ReplicaRegistry) => string): Promise<SeededImage[]> {
  const images = refs.map(storedImage);
  const layout = join(work, 'layout');
  await umoci('init', '--layout', layout);
  await umoci('new', '--image', `${layout}:empty`);
  await writeFile(join(work, 'replica-release'), 'ferry upstream replica image 1\n');
  await umoci('insert', '--image', `${layout}:empty`, '--tag', 'base', join(work, 'replica-release'), '/etc/replica-release');
  await umoci('config', '--image', `${layout}:base`, '--os', 'linux', '--architecture', 'amd64', '--config.entrypoint', '/bin/true');
  for (const [i, image] of images.entries()) {
    for (const arch of ['amd64', 'arm64']) {
      const note = join(work, `ref-${i}-${arch}`);
      await writeFile(note, `${image.ref}\n${arch}\n`);
      await umoci('insert', '--image', `${layout}:base`, '--tag', `img${i}-${arch}`, note, '/replica/ref.txt');
    }
    await umoci('config', '--image', `${layout}:img${i}-arm64`, '--architecture', 'arm64');
    await writeIndex(layout, `img${i}`, [{ tag: `img${i}-amd64`, architecture: 'amd64' }, { tag: `img${i}-arm64`, architecture: 'arm64', variant: 'v8' }]);
  }
  for (const registry of new Set(images.map((i) => i.registry))) {
    await mkdir(storage(registry), { recursive: true });
    const running = await startRegistry(join(work, `push-${registry}`), { kind: 'none' }, { storage: storage(registry) });
    try {
      for (const [i, image] of images.entries()) {
        if (image.registry !== registry) continue;
        await execa('skopeo', ['--insecure-policy', 'copy', '-q', '--all', '--dest-tls-verify=false', `oci:${layout}:img${i}`, `docker://${running.host}/${image.storedAs}:${image.tag}`]);
      }
    } finally {
      await running.stop();
    }
  }
  return images;
}
