// Parsers for the container runtime and kubelet sections of gather.sh, and for disk usage.
import { parse as parseToml } from 'smol-toml';
import { parse as parseYamlText } from 'yaml';
import type { ContainerdFacts, ContainerdRuntime, DiskUsage, Facts } from './types.ts';
import { firstLine, linesOf, type Section } from './sections.ts';

type Sections = Map<string, Section>;
type Table = Record<string, unknown>;

const asTable = (v: unknown): Table | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : undefined);

/** Where the CRI runtimes live in each containerd config version (v1 and v2 share a key, v3 moved it). */
export function criPluginKey(configVersion: number): string {
  if (configVersion >= 3) return 'io.containerd.cri.v1.runtime';
  if (configVersion === 2) return 'io.containerd.grpc.v1.cri';
  return 'cri';
}

/** `containerd config dump` (TOML) → config version and SystemdCgroup of every CRI runtime. */
export function parseContainerdConfig(text: string, version: string | undefined): ContainerdFacts {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (error) {
    return { version, configVersion: undefined, runtimes: [], parseError: (error as Error).message.split('\n')[0] };
  }
  const configVersion = typeof doc.version === 'number' ? doc.version : 1;
  const key = criPluginKey(configVersion);
  const runtimes = asTable(asTable(asTable(asTable(doc.plugins)?.[key])?.containerd)?.runtimes) ?? {};
  const out: ContainerdRuntime[] = Object.entries(runtimes).map(([name, value]) => {
    const options = asTable(asTable(value)?.options);
    const flag = options?.SystemdCgroup;
    return {
      name,
      systemdCgroup: typeof flag === 'boolean' ? flag : undefined,
      table: `plugins."${key}".containerd.runtimes.${name}.options`,
    };
  });
  return { version, configVersion, runtimes: out, parseError: undefined };
}

/** `containerd github.com/containerd/containerd v1.7.27 05044ec0...` or Debian's `1.6.20~ds1 ...` → version. */
export function parseContainerdVersion(line: string | undefined): string | undefined {
  const m = /containerd\s+\S+\s+v?(\d+\.\d+\.\d+)/.exec(line ?? '');
  return m?.[1];
}

/** `PATH FS 1024-blocks Used Available Capacity Mounted-on` lines written by gather.sh's disks(). */
export function parseDisks(lines: readonly string[]): DiskUsage[] {
  const out: DiskUsage[] = [];
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7 || !/^\d+$/.test(f[2]!)) continue;
    out.push({ path: f[0]!, filesystem: f[1]!, sizeKb: Number(f[2]), usedKb: Number(f[3]), availKb: Number(f[4]), mount: f.slice(6).join(' ') });
  }
  return out;
}

function kubeletDriver(text: string): string | undefined {
  try {
    const doc = asTable(parseYamlText(text));
    return typeof doc?.cgroupDriver === 'string' ? doc.cgroupDriver : undefined;
  } catch {
    return undefined;
  }
}

/** The runtime half of Facts. */
export function parseRuntime(sections: Sections) {
  const dump = sections.get('containerd-config');
  const version = parseContainerdVersion(firstLine(sections, 'containerd-version'));
  const containerd = dump?.rc === 0 && dump.lines.length > 0 ? parseContainerdConfig(dump.lines.join('\n'), version) : undefined;
  const crio = /cgroup_manager\s*=\s*"?([a-z]+)"?/.exec(linesOf(sections, 'crio-config').at(-1) ?? '');
  const kubelet = sections.get('kubelet-config');
  const certs = sections.get('control-plane-certs');
  const nodeTime = Number(certs?.lines[0]);
  return {
    controlPlaneCerts: certs && certs.lines.length > 1 && Number.isFinite(nodeTime) ? { nodeTime, output: certs.lines.slice(1).join('\n') } : undefined,
    containerd,
    crio: crio ? { cgroupManager: crio[1]! } : undefined,
    kubelet: {
      configPresent: kubelet?.rc === 0,
      cgroupDriver: kubelet?.rc === 0 ? kubeletDriver(kubelet.lines.join('\n')) : undefined,
    },
    disks: parseDisks(linesOf(sections, 'disks')),
  } satisfies Partial<Facts>;
}
