// Test helper: Debian's containerd as a plain process with the CRI plugin ON, configured like a node: the
// config.toml object from src/render/containerd.ts (config_path → the rendered hosts.toml directory) plus its
// own root, state and socket under a temp dir. Stopped by PID.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { containerdConfigObject } from '../../src/render/containerd.ts';
import { runContainerd } from '../support/containerd.ts';

export interface NodeContainerd {
  socket: string;
  /** `ctr` against this containerd in the k8s.io namespace (the one CRI uses). */
  ctr: (args: readonly string[]) => Promise<string>;
  stop: () => Promise<void>;
}

/** Starts containerd under `dir` reading hosts.toml files from `hostsDir`; resolves once `ctr version` answers. */
export async function startNodeContainerd(dir: string, hostsDir: string, version: string, sandboxImage: string): Promise<NodeContainerd> {
  const socket = join(dir, 'containerd.sock');
  for (const d of ['root', 'state']) await mkdir(join(dir, d), { recursive: true });
  const config = {
    ...containerdConfigObject({ version, sandboxImage, configPath: hostsDir }),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    grpc: { address: socket },
    ttrpc: { address: `${socket}.ttrpc` },
  };
  await writeFile(join(dir, 'config.toml'), stringify(config));
  const running = await runContainerd({ config: join(dir, 'config.toml'), address: socket, namespace: 'k8s.io' });
  return { socket, ...running };
}
