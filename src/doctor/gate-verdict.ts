// What install's doctor gate makes of a doctor report: which failed checks stop the install (per host), and which
// become warnings because the operator allowed them or because install's own phases set them right. Pure.
import type { Finding } from '../checks/types.ts';
import type { DoctorReport } from './model.ts';

/**
 * Failed checks that install itself puts right, or that a re-run of a converged install trips over its own work,
 * with the reason: these warn instead of stopping the install.
 */
export const INSTALL_HANDLES: Readonly<Record<string, string>> = {
  swap: 'the os-prepare phase turns swap off and comments it out of /etc/fstab',
  'ip-forward': 'the os-prepare phase sets net.ipv4.ip_forward = 1 (sysctl.d)',
  'kernel-modules': 'the os-prepare phase loads br_netfilter and overlay and lists them in modules-load.d',
  'cgroup-driver': 'the container-runtime phase writes the runtime config with the systemd cgroup driver',
  // On a re-run the runtime found is the one the lock named, installed by ferry; the lock's choice is resolve's to judge.
  'container-runtime': 'the container-runtime phase installs the runtime version the lock names, from the bundle',
  // The headers (and gcc) matter only for a DKMS build; the phase picks a precompiled module when the bundle has one.
  'gpu-headers': "the gpu-driver phase installs the bundle's precompiled module for this kernel or the exact headers and compiler for DKMS, and refuses before any change when the bundle has neither",
  // ferry's own balancer (and, later, the control plane) hold these ports once installed; kubeadm's preflight still refuses a foreign holder.
  'local-ports': "a converged install's own services hold these ports, and kubeadm's preflight refuses a port taken by anything else",
};

export interface GateVerdict {
  /** Host (the receiving end for a node pair, `cluster` for cluster-wide findings) → one line per failed check. */
  blocking: Map<string, string[]>;
  /** Check ids that failed and stop the install, for the --allow-failed-check hint. */
  blockingIds: string[];
  warnings: string[];
}

function where(f: Finding): string {
  return f.host ?? f.pair?.to ?? 'cluster';
}

function describe(f: Finding): string {
  const pair = f.pair ? ` (${f.pair.from}→${f.pair.to})` : '';
  return `${f.check}${pair}: ${f.message}${f.remedy ? `; fix: ${f.remedy}` : ''}`;
}

/** Sort the report's findings into what stops the install and what is only said. */
export function judgeGate(report: DoctorReport, allowed: readonly string[]): GateVerdict {
  const blocking = new Map<string, string[]>();
  const blockingIds = new Set<string>();
  const warnings: string[] = [];
  const block = (host: string, line: string) => blocking.set(host, [...(blocking.get(host) ?? []), line]);
  for (const h of report.hosts) if (!h.reachable) block(h.name, `doctor could not check this host: ${h.error ?? 'unreachable'}${h.remedy ? `; fix: ${h.remedy}` : ''}`);
  for (const f of report.findings) {
    if (f.status === 'pass') continue;
    const line = `${where(f)}: ${describe(f)}`;
    if (f.status === 'warn') warnings.push(`doctor: ${line}`);
    else if (allowed.includes(f.check)) warnings.push(`doctor: ${line} (allowed by --allow-failed-check ${f.check})`);
    else if (INSTALL_HANDLES[f.check]) warnings.push(`doctor: ${line} (install goes on: ${INSTALL_HANDLES[f.check]})`);
    else {
      block(where(f), describe(f));
      blockingIds.add(f.check);
    }
  }
  return { blocking, blockingIds: [...blockingIds], warnings };
}
