// The typed facts ferry knows about one node (doctor's checks, install's phases): what gather.sh printed, parsed.
// Host config lives in the inventory, not here.

import type { FirewalldConfig } from './parse-firewalld.ts';

export type OsFamily = 'el' | 'debian' | 'other';

export interface NetLink {
  name: string;
  mtu: number;
  mac: string;
  state: string;
}

export interface Ipv4Address {
  iface: string;
  address: string;
  prefix: number;
}

export interface Listener {
  address: string;
  port: number;
}

export interface DiskUsage {
  /** The path doctor asked about (e.g. /var/lib/containerd); `mount` is where it really lives. */
  path: string;
  filesystem: string;
  sizeKb: number;
  usedKb: number;
  availKb: number;
  mount: string;
}

export interface ContainerdRuntime {
  name: string;
  /** `options.SystemdCgroup` as configured; undefined when the key is absent (containerd then uses cgroupfs). */
  systemdCgroup: boolean | undefined;
  /** TOML table where the option lives, for the remedy. */
  table: string;
}

export interface ContainerdFacts {
  version: string | undefined;
  /** `version` of the config: 2 (containerd 1.x, 2.x) or 3 (2.x). */
  configVersion: number | undefined;
  runtimes: ContainerdRuntime[];
  /** Set when `containerd config dump` printed something that is not TOML. */
  parseError: string | undefined;
}

export interface InstalledPackage {
  name: string;
  /** dpkg's version, or rpm's `[epoch:]version-release`. */
  version: string;
  arch: string;
}

/** Every installed package of a node (only when asked for: `gatherFacts(host, { packages: true })`). */
export interface InstalledPackages {
  manager: 'dpkg' | 'rpm';
  /** Sorted by name, then arch. */
  packages: InstalledPackage[];
}

export interface Facts {
  host: string;
  isRoot: boolean;
  /** From /etc/os-release; `family` from ID and ID_LIKE (osFamily, the one table). */
  os: { id: string; idLike: string[]; versionId: string; family: OsFamily; prettyName: string };
  kernel: {
    release: string;
    arch: string;
    /** Compiler that built the running kernel, from /proc/version (e.g. `gcc (GCC) 8.5.0 20210514`). */
    compiler: string | undefined;
    modulesDir: boolean;
    buildDir: boolean;
  };
  identity: { hostname: string; machineId: string | undefined; productUuid: string | undefined };
  links: NetLink[];
  addresses: Ipv4Address[];
  defaultRouteIface: string | undefined;
  cgroup: { version: 'v1' | 'v2' | 'hybrid' | 'unknown'; controllers: string[] };
  /** Loaded modules; undefined when /proc/modules is absent (kernel without module support). */
  modules: string[] | undefined;
  /** File systems the kernel knows (/proc/filesystems), e.g. overlay. */
  filesystems: string[];
  sysctl: Record<string, string>;
  swap: { devices: { name: string; sizeKb: number }[] };
  memory: { totalKb: number };
  cpus: number;
  iptables: {
    version: string | undefined;
    mode: 'nf_tables' | 'legacy' | undefined;
    legacyRules: number;
    nftRules: number;
    nftTables: string[];
    firewalldBackend: string | undefined;
  };
  /** firewalld's zones, policies, ipsets and services, where it runs (parse-firewalld.ts). */
  firewalld: FirewalldConfig | undefined;
  /** systemd unit → `systemctl is-active` answer (active, inactive, failed, ...); absent when unknown. */
  services: Record<string, string>;
  time: { ntpSynchronized: boolean | undefined; ntpService: boolean | undefined };
  listeners: Listener[];
  disks: DiskUsage[];
  containerd: ContainerdFacts | undefined;
  crio: { cgroupManager: string } | undefined;
  kubelet: { configPresent: boolean; cgroupDriver: string | undefined };
  /** Only on a node that is already a control plane: its clock (s since the epoch) and the certificate listing
   * (marker line, then kubeadm's table or openssl's lines; src/certs/check.ts reads it). */
  controlPlaneCerts: { nodeTime: number; output: string } | undefined;
  kernelHeaders: { manager: 'dpkg' | 'rpm'; package: string; installed: boolean } | undefined;
  reboot: { required: boolean; reason: string | undefined };
  selinux: string | undefined;
  elPackages: Record<string, boolean>;
  /** Interpreter for the probes: platform-python on EL8, python3 elsewhere. */
  python: string | undefined;
  tools: Record<string, string | undefined>;
  secureBoot: 'enabled' | 'disabled' | 'unsupported' | 'unknown';
  gpu: {
    devices: { slot: string; deviceId: string }[];
    driverVersion: string | undefined;
    smi: { name: string; driverVersion: string; busId: string }[];
  };
  gcc: string | undefined;
  dns: { nameservers: string[]; search: string[]; hostResolves: boolean; hostAddresses: string[] };
  proxy: Record<string, string>;
  networkManagerUnmanaged: string[];
  /** Installed packages; absent unless gathered with `packages: true` (doctor --site-out). */
  packages?: InstalledPackages;
  /** The admin host's IPv4 address as the node sees it ($SSH_CLIENT of ferry's session), when the session has one. */
  adminAddress: string | undefined;
}
