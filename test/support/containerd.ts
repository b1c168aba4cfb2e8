// Debian's containerd run as a plain process for a test: its own root, state and socket under a temp dir,
// the CRI plugin off (no kubelet here), stopped by PID.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stopChild } from './registry.ts';

export interface RunningContainerd {
  /** Run `ctr` against this containerd, in its namespace. */
  ctr: (args: readonly string[]) => Promise<string>;
  stop: () => Promise<void>;
}

/** Start containerd under `dir`; resolves once `ctr version` answers. */
export async function startContainerd(dir: string): Promise<RunningContainerd> {
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const address = join(dir, 'containerd.sock');
  await mkdir(root, { recursive: true });
  await mkdir(state, { recursive: true });
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(address)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
      '',
    ].join('\n'),
  );
  return runContainerd({ config, address, namespace: 'ferry-test' });
}

/**
 * Start containerd with `config` (which must name `address` as its socket) and wait until `ctr version` answers;
 * shared by every test that runs containerd as a plain process. Stopped by PID.
 */
export async function runContainerd(o: { config: string; address: string; namespace: string }): Promise<RunningContainerd> {
  const child = spawn('containerd', ['--config', o.config, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const ctr = async (args: readonly string[]) => (await execa('ctr', ['--address', o.address, '--namespace', o.namespace, ...args])).stdout;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`containerd exited ${child.exitCode}: ${stderr}`);
    if (await ctr(['version']).then(() => true, () => false)) break;
    if (i > 100) {
      await stopChild(child);
      throw new Error(`containerd did not answer on ${o.address}: ${stderr}`);
    }
    await sleep(100);
  }
  return { ctr, stop: () => stopChild(child, 10_000) };
}
