// Debian's containerd run as a plain process for a test: its own root, state and socket under a temp dir,
// the CRI plugin off (no kubelet here), stopped by PID.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stopChild } from './registry.ts';

export interface RunningContainerd {
  /** Run `ctr` against this containerd, in namespace `ferry-test`. */
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
  const child = spawn('containerd', ['--config', config, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const ctr = async (args: readonly string[]) => (await execa('ctr', ['--address', address, '--namespace', 'ferry-test', ...args])).stdout;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`containerd exited ${child.exitCode}: ${stderr}`);
    if (await ctr(['version']).then(() => true, () => false)) break;
    if (i > 100) {
      await stopChild(child);
      throw new Error(`containerd did not answer on ${address}: ${stderr}`);
    }
    await sleep(100);
  }
  return { ctr, stop: () => stopChild(child, 10_000) };
}
