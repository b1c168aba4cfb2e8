// CRI-O: a crio.conf.d drop-in (systemd cgroup manager, pause image from the local registry, pinned images,
// nvidia runtime on GPU nodes) and a registries.conf.d drop-in that sends every upstream to the local registry.
// Keys per crio.conf(5) and containers-registries.conf(5) / containers-certs.d(5).
import { stringify } from 'smol-toml';
import { UserError } from '../errors.ts';
import { checkedReplicas, type LocalRegistryEndpoints } from './containerd-hosts.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { upstreamRegistries } from './local-image.ts';

export interface CrioInput {
  /** Pause image as the node names it (on the local registry). */
  pauseImage: string;
  /** Images kubelet must never garbage-collect (crio.image.pinned_images); the pause image is always added. */
  pinnedImages: readonly string[];
  gpu?: { runtimePath?: string; defaultRuntime: boolean };
}

export interface CrioRegistriesInput {
  registry: LocalRegistryEndpoints;
  images: readonly string[];
  /** PEM text of ferry's CA, placed where containers/image looks for a registry's CA (certs.d/<host:port>/ca.crt). */
  caPem: string;
}

export const CRIO_DROP_IN = '/etc/crio/crio.conf.d/10-ferry.conf';
export const REGISTRIES_DROP_IN = '/etc/containers/registries.conf.d/10-ferry.conf';

/** The crio.conf.d drop-in for the node. */
export function renderCrioConfig(input: CrioInput): RenderedFile {
  const runtime: Record<string, unknown> = {
    cgroup_manager: 'systemd',
    // With the systemd cgroup manager conmon must run in the pod's cgroup or a slice (crio.conf(5), conmon_cgroup).
    conmon_cgroup: 'pod',
  };
  // Without a GPU the package's default runtime (crun or runc, both defined by CRI-O) is left as it is.
  if (input.gpu?.defaultRuntime) runtime.default_runtime = 'nvidia';
  if (input.gpu) {
    runtime.runtimes = { nvidia: { runtime_path: input.gpu.runtimePath ?? '/usr/bin/nvidia-container-runtime', runtime_type: 'oci' } };
  }
  const pinned = [...new Set([input.pauseImage, ...input.pinnedImages])];
  const body = stringify({ crio: { runtime, image: { pause_image: input.pauseImage, pinned_images: pinned } } });
  return renderedFile(CRIO_DROP_IN, `# Written by ferry: systemd cgroups, local pause image, pinned critical images.\n${body}\n`);
}

/** registries.conf drop-in plus a CA file per replica: every upstream and the local name resolve to the replicas only. */
export function renderCrioRegistries(input: CrioRegistriesInput): RenderedFile[] {
  const replicas = checkedReplicas(input.registry);
  if (!input.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new UserError('caPem must be a PEM certificate');
  const local = input.registry.name;
  const entry = (prefix: string) => {
    const at = (replica: string) => (prefix === local ? replica : `${replica}/${prefix}`);
    // Mirrors are tried in order before `location`; location is a replica too, so nothing reaches the internet.
    return { prefix, location: at(replicas[0]!), mirror: replicas.map((r) => ({ location: at(r) })) };
  };
  const prefixes = [...new Set([...upstreamRegistries(input.images), local])];
  const conf = renderedFile(
    REGISTRIES_DROP_IN,
    `# Written by ferry: every registry below is served by the local registry replicas.\n${stringify({ registry: prefixes.map(entry) })}\n`,
  );
  const cas = replicas.map((r) => renderedFile(`/etc/containers/certs.d/${r}/ca.crt`, input.caPem));
  return [conf, ...cas];
}
