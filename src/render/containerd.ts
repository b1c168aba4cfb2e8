// containerd's config.toml for containerd 1.6/1.7 (config `version = 2`) and 2.x (`version = 3`): systemd cgroup
// driver for every runtime, sandbox image from the local registry, config_path for the registry mirrors, and an
// nvidia runtime on GPU nodes. Paths per containerd docs/cri/config.md and docs/hosts.md.
import { stringify } from 'smol-toml';
import { UserError } from '../errors.ts';
import { CONTAINERD_CERTS_DIR } from './containerd-hosts.ts';
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';

export interface ContainerdConfigInput {
  /** containerd version from the lock, e.g. 1.7.24 or 2.1.5. */
  version: string;
  /** Sandbox (pause) image as the node pulls it, i.e. already pointing at the local registry or a mirrored name. */
  sandboxImage: string;
  /** Directory of hosts.toml files; default /etc/containerd/certs.d. */
  configPath?: string;
  /** GPU node: add an `nvidia` runtime (nvidia-container-runtime as runc's BinaryName), optionally the default. */
  gpu?: { binaryName?: string; defaultRuntime: boolean };
}

export const CONTAINERD_CONFIG_PATH = '/etc/containerd/config.toml';
/** Label that makes kubelet's image GC skip an image (containerd CRI, honoured by kubelet since 1.23). */
export const CONTAINERD_PINNED_LABEL = 'io.cri-containerd.pinned=pinned';
// Where the NVIDIA Container Toolkit packages install the runtime (the BinaryName `nvidia-ctk runtime configure` writes).
const NVIDIA_RUNTIME = '/usr/bin/nvidia-container-runtime';

/** The config schema a containerd version reads: 2 for 1.6/1.7, 3 for 2.x. */
export function containerdConfigVersion(version: string): 2 | 3 {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  const major = Number(m?.[1]);
  const minor = Number(m?.[2]);
  if (major === 2) return 3;
  if (major === 1 && minor >= 6) return 2;
  throw new UserError(`containerd ${version} is not supported: ferry renders configs for containerd 1.6, 1.7 and 2.x`);
}

function runtimes(input: ContainerdConfigInput) {
  const runc = { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: true } };
  if (!input.gpu) return { runc };
  const nvidia = {
    runtime_type: 'io.containerd.runc.v2',
    options: { BinaryName: input.gpu.binaryName ?? NVIDIA_RUNTIME, SystemdCgroup: true },
  };
  return { runc, nvidia };
}

/** The config as a plain object, before TOML: tests and `ferry doctor` compare against it. */
export function containerdConfigObject(input: ContainerdConfigInput): Record<string, unknown> {
  const configPath = input.configPath ?? CONTAINERD_CERTS_DIR;
  const containerd = { default_runtime_name: input.gpu?.defaultRuntime ? 'nvidia' : 'runc', runtimes: runtimes(input) };
  if (containerdConfigVersion(input.version) === 2) {
    return {
      version: 2,
      plugins: {
        'io.containerd.grpc.v1.cri': { sandbox_image: input.sandboxImage, containerd, registry: { config_path: configPath } },
      },
    };
  }
  return {
    version: 3,
    plugins: {
      'io.containerd.cri.v1.images': { pinned_images: { sandbox: input.sandboxImage }, registry: { config_path: configPath } },
      'io.containerd.cri.v1.runtime': { containerd },
    },
  };
}

/** /etc/containerd/config.toml for the node. */
export function renderContainerdConfig(input: ContainerdConfigInput): RenderedFile {
  const header = `# Written by ferry for containerd ${input.version}${input.gpu ? ' (GPU node)' : ''}. Every runtime uses the systemd cgroup driver.\n`;
  // `config dump` loads the file the way the daemon does and fails on TOML errors.
  const verify = ['containerd', '--config', STAGED_FILE, 'config', 'dump'];
  return renderedFile(CONTAINERD_CONFIG_PATH, `${header}${stringify(containerdConfigObject(input))}\n`, { verify });
}

/** argv that pins an image in containerd's k8s.io namespace so kubelet never garbage-collects it. */
export function pinImageArgv(ref: string): string[] {
  return ['ctr', '--namespace', 'k8s.io', 'images', 'label', ref, CONTAINERD_PINNED_LABEL];
}
