// Fixture images built with umoci (real OCI tooling, no Docker) and pushed with skopeo into a test registry:
// two images sharing a base layer, one pushed as Docker schema 2, and one amd64+arm64 index pushed both as an
// OCI index and as a Docker manifest list.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { addLayer, umoci, writeIndex } from '../../src/replica/oci-build.ts';

export interface FixtureOptions {
  /** Registry host:port to push to, over plain http. */
  host: string;
  /** Push credentials, `user:password`, for a registry with Basic or token auth. */
  creds?: string;
  /** Size of the random file in each layer (default 64 KiB). */
  layerBytes?: number;
  /** Which images to build and push (default all). */
  only?: readonly FixtureName[];
}

export type FixtureName = 'app-a' | 'app-b' | 'app-c' | 'multi' | 'multi-docker';

/** Repository:tag of each fixture in the registry. */
export const FIXTURES: Record<FixtureName, string> = {
  'app-a': 'ferry/app-a:1.0',
  'app-b': 'ferry/app-b:1.0',
  'app-c': 'ferry/app-c:1.0',
  multi: 'ferry/multi:1.0',
  'multi-docker': 'ferry/multi-docker:1.0',
};

/** Build the fixtures under `work` and push them to `options.host`; returns the layout path. */
export async function pushFixtures(work: string, options: FixtureOptions): Promise<string> {
  const layout = join(work, 'layout');
  const size = options.layerBytes ?? 64 * 1024;
  const want = new Set(options.only ?? (Object.keys(FIXTURES) as FixtureName[]));
  await umoci('init', '--layout', layout);
  await umoci('new', '--image', `${layout}:empty`);
  await addLayer(layout, work, 'empty', 'base', { 'etc/base-release': 'ferry fixture base 1\n', 'base.bin': randomBytes(size) });
  await umoci('config', '--image', `${layout}:base`, '--os', 'linux', '--architecture', 'amd64', '--config.entrypoint', '/bin/true');
  await addLayer(layout, work, 'base', 'app-a', { 'app/a.bin': randomBytes(size) });
  await addLayer(layout, work, 'base', 'app-b', { 'app/b.bin': randomBytes(size) });
  await addLayer(layout, work, 'base', 'app-c', { 'app/c.bin': randomBytes(size) });
  await addLayer(layout, work, 'base', 'multi-amd64', { 'arch.txt': 'amd64\n' });
  await addLayer(layout, work, 'base', 'multi-arm64', { 'arch.txt': 'arm64\n', 'arm.bin': randomBytes(size) });
  await umoci('config', '--image', `${layout}:multi-arm64`, '--architecture', 'arm64');
  await writeIndex(layout, 'multi', [
    { tag: 'multi-amd64', architecture: 'amd64' },
    { tag: 'multi-arm64', architecture: 'arm64', variant: 'v8' },
  ]);
  const push = async (tag: string, name: FixtureName, extra: string[] = []) => {
    if (!want.has(name)) return;
    const creds = options.creds ? ['--dest-creds', options.creds] : [];
    await execa('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', ...creds, ...extra, `oci:${layout}:${tag}`, `docker://${options.host}/${FIXTURES[name]}`]);
  };
  await push('app-a', 'app-a');
  await push('app-b', 'app-b');
  await push('app-c', 'app-c', ['--format', 'v2s2']);
  await push('multi', 'multi', ['--all']);
  await push('multi', 'multi-docker', ['--all', '--format', 'v2s2']);
  return layout;
}

/** `skopeo inspect --raw` of an image in the registry: the manifest bytes exactly as served. */
export async function rawManifest(host: string, repoTag: string, creds?: string): Promise<Buffer> {
  const auth = creds ? ['--creds', creds] : [];
  const { stdout } = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', ...auth, `docker://${host}/${repoTag}`], { encoding: 'buffer', stripFinalNewline: false });
  return Buffer.from(stdout);
}
