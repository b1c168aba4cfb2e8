// Kernel modules Kubernetes needs at boot, in modules-load.d (read by systemd-modules-load), plus the argv that
// loads them now.
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';

export const MODULES_PATH = '/etc/modules-load.d/ferry-kubernetes.conf';

/** overlay for the snapshotter, br_netfilter so bridged pod traffic passes netfilter (and its sysctls exist). */
export const KUBERNETES_MODULES = ['overlay', 'br_netfilter'] as const;

function checked(extra: readonly string[]): string[] {
  const all = [...new Set([...KUBERNETES_MODULES, ...extra])];
  for (const m of all) if (!/^[a-z0-9_-]+$/.test(m)) throw new UserError(`not a kernel module name: ${JSON.stringify(m)}`);
  return all;
}

/** The modules-load.d file. */
export function renderModules(extra: readonly string[] = []): RenderedFile {
  return renderedFile(MODULES_PATH, `# Written by ferry: kernel modules for Kubernetes.\n${checked(extra).join('\n')}\n`);
}

/** argv lines that load the modules without a reboot (modprobe is a no-op for a module built into the kernel). */
export function loadModulesArgv(extra: readonly string[] = []): string[][] {
  return checked(extra).map((m) => ['modprobe', m]);
}
