// Whether the driver on a node is the one the lock wants, judged from `nvidia-smi --query-gpu=name,driver_version
// --format=csv,noheader` and the loaded module's version. Pure, so every wording is table-tested.

export const SMI_QUERY = ['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader'];

export interface SmiResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export type SmiVerdict = { ok: true; gpus: { name: string; driverVersion: string }[] } | { ok: false; reason: string; hint: string; reboot: boolean };

/** `NVIDIA H100 80GB HBM3, 580.95.05` lines → name and driver version per GPU. */
export function parseSmiCsv(stdout: string): { name: string; driverVersion: string }[] {
  return stdout
    .split('\n')
    .map((l) => l.split(',').map((x) => x.trim()))
    .filter((f) => f.length === 2 && /^\d+\.\d+/.test(f[1]!))
    .map(([name, driverVersion]) => ({ name: name!, driverVersion: driverVersion! }));
}

/**
 * Judges nvidia-smi after an install. An old nvidia.ko still loaded makes NVML fail with "Driver/library version
 * mismatch": only a reboot loads the new module, and ferry never reboots a node on its own.
 */
export function judgeSmi(host: string, r: SmiResult, branch: number, loaded: string | undefined): SmiVerdict {
  const text = `${r.stdout}\n${r.stderr}`;
  const loadedBranch = loaded ? Number(loaded.split('.')[0]) : undefined;
  if (/Driver\/library version mismatch/i.test(text) || (loadedBranch !== undefined && loadedBranch !== branch)) {
    return {
      ok: false,
      reboot: true,
      reason: `${host}: the NVIDIA ${branch} driver is installed but the loaded kernel module is ${loaded ?? 'an older one'}, so it cannot load`,
      hint: `reboot ${host} (ferry never reboots a node by itself), then run the same install again`,
    };
  }
  const gpus = parseSmiCsv(r.stdout);
  if (r.exitCode === 0 && gpus.length === 0) {
    return {
      ok: false,
      reboot: false,
      reason: `${host}: nvidia-smi exited 0 but listed no GPU${r.stdout.trim() ? `: ${r.stdout.trim().split('\n')[0]}` : ' (empty output)'}`,
      hint: `on ${host}, check that the GPUs are visible (lspci -d 10de:) and the nvidia module is loaded (lsmod | grep nvidia), then run the same install again`,
    };
  }
  if (r.exitCode !== 0) {
    const said = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.exitCode}`).split('\n')[0];
    return { ok: false, reboot: false, reason: `${host}: nvidia-smi does not answer after the driver install: ${said}`, hint: `look at dmesg and journalctl -k on ${host} for nvidia messages` };
  }
  const wrong = gpus.filter((g) => Number(g.driverVersion.split('.')[0]) !== branch);
  if (wrong.length > 0) {
    return {
      ok: false,
      reboot: false,
      reason: `${host}: nvidia-smi reports driver ${wrong[0]!.driverVersion} but the lock wants branch ${branch}`,
      hint: `remove the other driver from ${host} (or resolve a lock with its branch) and run install again`,
    };
  }
  return { ok: true, gpus };
}
