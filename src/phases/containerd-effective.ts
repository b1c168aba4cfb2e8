// What containerd really runs with, judged after container-runtime placed its config: the installed containerd and
// runc are the lock's, and `containerd config dump` (the config as the daemon loads it, defaults filled in) has the
// systemd cgroup driver on every runtime and the sandbox image from the local registry. A containerd that reads a
// config written for another version exits 0 and silently falls back to its defaults (1.6 reading a 2.x file runs
// with SystemdCgroup = false and registry.k8s.io/pause:3.6), which is why the file alone proves nothing. Pure.
import { parse } from 'smol-toml';
import { upstreamVersion } from '../bundle/lock-match.ts';

/** `containerd github.com/containerd/containerd/v2 2.1.9+unknown` / `containerd containerd.io 1.7.27 05044e…` → 2.1.9 / 1.7.27. */
export function parseContainerdVersion(stdout: string): string | undefined {
  const word = stdout.trim().split(/\s+/)[2];
  return word ? upstreamVersion(word.replace(/^v/, '')) : undefined;
}

/** `runc version 1.1.5+ds1` (first line of `runc --version`) → 1.1.5. */
export function parseRuncVersion(stdout: string): string | undefined {
  const m = /^runc version v?(\S+)/m.exec(stdout);
  return m ? upstreamVersion(m[1]!) : undefined;
}

type Table = Record<string, unknown>;
const table = (v: unknown): Table | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : undefined);
const at = (root: unknown, ...path: string[]): unknown => path.reduce<unknown>((t, k) => table(t)?.[k], root);

/** The CRI settings of a dump, wherever its config version keeps them (2: io.containerd.grpc.v1.cri; 3: cri.v1.*). */
function criSettings(dump: Table): { sandbox: unknown; runtimes: Table | undefined } {
  // 2.x dumps keep a (different) io.containerd.grpc.v1.cri table too: the config version decides.
  const v2 = at(dump, 'plugins', 'io.containerd.grpc.v1.cri');
  if (Number(dump.version) < 3) return { sandbox: at(v2, 'sandbox_image'), runtimes: table(at(v2, 'containerd', 'runtimes')) };
  return {
    sandbox: at(dump, 'plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox'),
    runtimes: table(at(dump, 'plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes')),
  };
}

/** Every way the effective config differs from what Kubernetes on this node needs; empty when it is right. */
export function judgeEffectiveConfig(dumpText: string, want: { sandboxImage: string; runtimes: readonly string[] }): string[] {
  let dump: Table;
  try {
    dump = parse(dumpText) as Table;
  } catch (error) {
    return [`containerd config dump printed no readable TOML (${(error as Error).message.split('\n')[0]})`];
  }
  if ((dump.disabled_plugins as unknown[] | undefined)?.some((p) => String(p).includes('cri')))
    return ['the CRI plugin is disabled (disabled_plugins), as the containerd.io package ships it: kubelet cannot talk to containerd'];
  const { sandbox, runtimes } = criSettings(dump);
  const problems: string[] = [];
  if (sandbox !== want.sandboxImage) problems.push(`the sandbox image is ${JSON.stringify(sandbox ?? null)}, not ${want.sandboxImage} from the local registry`);
  for (const name of want.runtimes) {
    const cgroup = at(runtimes, name, 'options', 'SystemdCgroup');
    if (cgroup !== true) problems.push(`runtime ${name} runs with SystemdCgroup = ${JSON.stringify(cgroup ?? null)}: kubelet uses the systemd cgroup driver`);
  }
  return problems;
}

/** What a config ferry rendered asks for (its sandbox image and runtime names), to hold the dump against. */
export function expectationOf(renderedToml: string): { sandboxImage: string; runtimes: string[] } {
  const { sandbox, runtimes } = criSettings(parse(renderedToml) as Table);
  return { sandboxImage: String(sandbox), runtimes: Object.keys(runtimes ?? {}) };
}
