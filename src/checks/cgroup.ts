// cgroup version and controllers against the Kubernetes version, and kubelet's cgroup driver against the runtime's.
import type { Facts } from '../facts/types.ts';
import { kubeMinor } from './version.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

const V2_NEEDED = ['cpu', 'cpuset', 'memory', 'pids'];
const V1_NEEDED = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'];
const GRUBBY = 'grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1 && reboot';

function cgroupVersion(facts: Facts, ctx: NodeContext): Finding[] {
  const { version, controllers } = facts.cgroup;
  const k8s = ctx.plan.kubernetesVersion;
  const id = 'cgroup-version';
  if (version === 'unknown')
    return [hostFinding(id, facts.host, 'warn', 'cannot tell the cgroup version (/sys/fs/cgroup is neither cgroup2 nor a v1 tmpfs)', 'mount cgroup2 at /sys/fs/cgroup (boot with systemd.unified_cgroup_hierarchy=1)')];
  const needed = version === 'v2' ? V2_NEEDED : V1_NEEDED;
  const missing = needed.filter((c) => !controllers.includes(c));
  if (missing.length > 0)
    return [hostFinding(id, facts.host, 'fail', `cgroup ${version} lacks controllers: ${missing.join(', ')}`, version === 'v2' ? 'enable them: systemd delegates cpu, cpuset, memory and pids when booted with systemd.unified_cgroup_hierarchy=1; check cgroup_no_v1= and cgroup_disable= on the kernel command line' : 'remove cgroup_disable= from the kernel command line and reboot')];
  if (version === 'v2') return [hostFinding(id, facts.host, 'pass', `cgroup v2 with ${needed.join(', ')}`)];
  // cgroup v1: maintenance mode from 1.31 (KEP-4569); kubelet refuses it by default from 1.35 (KEP-5573, failCgroupV1).
  if (kubeMinor(k8s) >= 35)
    return [hostFinding(id, facts.host, 'fail', `cgroup v1: kubelet ${k8s} refuses to start on cgroup v1 (failCgroupV1 defaults to true from 1.35)`, GRUBBY)];
  return [hostFinding(id, facts.host, 'warn', `cgroup v1: works with Kubernetes ${k8s}, but v1 is in maintenance since 1.31 and refused by default from 1.35`, GRUBBY)];
}

function containerdRemedy(table: string, driver: string): string {
  const value = driver === 'systemd' ? 'true' : 'false';
  return `in /etc/containerd/config.toml set SystemdCgroup = ${value} under [${table}] (if the file lacks that table, start from \`containerd config default > /etc/containerd/config.toml\`), then: systemctl restart containerd`;
}

function cgroupDriver(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'cgroup-driver';
  const kubelet = facts.kubelet.configPresent ? facts.kubelet.cgroupDriver ?? 'cgroupfs' : ctx.plan.kubeletCgroupDriver;
  const source = facts.kubelet.configPresent ? '/var/lib/kubelet/config.yaml' : 'the KubeletConfiguration ferry will render';
  const out: Finding[] = [];
  const c = facts.containerd;
  if (c?.parseError) out.push(hostFinding(id, facts.host, 'fail', `\`containerd config dump\` is not valid TOML: ${c.parseError}`, 'fix /etc/containerd/config.toml (containerd config dump must succeed)'));
  for (const runtime of c?.runtimes ?? []) {
    const runtimeDriver = runtime.systemdCgroup === true ? 'systemd' : 'cgroupfs';
    const shown = runtime.systemdCgroup === undefined ? 'not set (cgroupfs)' : String(runtime.systemdCgroup);
    if (runtimeDriver !== kubelet)
      out.push(hostFinding(id, facts.host, 'fail', `containerd runtime "${runtime.name}" has SystemdCgroup = ${shown} but kubelet uses the ${kubelet} driver (${source}): the control plane restart-loops`, containerdRemedy(runtime.table, kubelet)));
    else out.push(hostFinding(id, facts.host, 'pass', `containerd runtime "${runtime.name}": SystemdCgroup = ${shown}, matches kubelet's ${kubelet} driver`));
  }
  if (facts.crio) {
    const ok = facts.crio.cgroupManager === kubelet;
    out.push(ok
      ? hostFinding(id, facts.host, 'pass', `CRI-O cgroup_manager = ${facts.crio.cgroupManager}, matches kubelet`)
      : hostFinding(id, facts.host, 'fail', `CRI-O cgroup_manager = "${facts.crio.cgroupManager}" but kubelet uses ${kubelet} (${source})`, `set cgroup_manager = "${kubelet}" in /etc/crio/crio.conf.d/99-ferry.conf under [crio.runtime], then: systemctl restart crio`));
  }
  if (facts.kubelet.configPresent && kubelet !== ctx.plan.kubeletCgroupDriver)
    out.push(hostFinding(id, facts.host, 'warn', `kubelet's existing config uses ${kubelet}, ferry renders ${ctx.plan.kubeletCgroupDriver}`, 'let ferry install rewrite /var/lib/kubelet/config.yaml, or remove the stale kubelet state (kubeadm reset)'));
  if (out.length === 0) out.push(hostFinding(id, facts.host, 'pass', `no container runtime installed yet: ferry install renders SystemdCgroup = true to match kubelet's ${kubelet} driver`));
  return out;
}

/** The cgroup checks, in report order. */
export const cgroupChecks: NodeCheck[] = [
  { id: 'cgroup-version', title: 'cgroup version and controllers for the Kubernetes version', run: cgroupVersion },
  { id: 'cgroup-driver', title: 'kubelet cgroup driver equals the runtime’s (containerd SystemdCgroup, CRI-O cgroup_manager)', run: cgroupDriver },
];
