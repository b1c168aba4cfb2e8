// Parsers of what the refresh sources return: git ref advertisements, Kubernetes' release data, NVIDIA's redistrib
// index, Ubuntu's meta-release file and GitHub security advisories. Pure; malformed input yields what could be read.
import { parse } from 'yaml';

const STABLE = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** Stable release versions (`1.2.3`, from tags `v1.2.3` or `1.2.3`) in a smart-HTTP ref advertisement or ls-remote output. */
export function tagVersions(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/[0-9a-f]{40} refs\/tags\/([^\s^]+)(\^\{\})?/g)) {
    const v = STABLE.exec(m[1]!);
    if (v) out.add(`${Number(v[1])}.${Number(v[2])}.${Number(v[3])}`);
  }
  return [...out];
}

export interface KubeObserved {
  latest?: string | undefined;
  released?: string | undefined;
  eol?: string | undefined;
  /** Ended: eol.yaml names its final patch. */
  ended: boolean;
}

const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

/** Per minor: newest patch released, release date and end of life, from schedule.yaml and eol.yaml of kubernetes/website. */
export function kubernetesReleases(scheduleText: string, eolText: string): Map<string, KubeObserved> {
  const out = new Map<string, KubeObserved>();
  const schedule = (parse(scheduleText) as { schedules?: Record<string, unknown>[] } | null)?.schedules ?? [];
  for (const s of schedule) {
    const minor = str(s.release);
    if (!minor) continue;
    const patches = ((s.previousPatches as { release?: unknown }[] | undefined) ?? []).map((p) => str(p.release)).filter((p): p is string => !!p && STABLE.test(p));
    out.set(minor, { latest: newest(patches), released: str(s.releaseDate), eol: str(s.endOfLifeDate), ended: false });
  }
  const eol = (parse(eolText) as { branches?: Record<string, unknown>[] } | null)?.branches ?? [];
  for (const b of eol) {
    const minor = str(b.release);
    if (!minor) continue;
    out.set(minor, { ...out.get(minor), latest: str(b.finalPatchRelease), eol: str(b.endOfLifeDate), ended: true });
  }
  return out;
}

/** Driver versions with a redistrib_<version>.json manifest in NVIDIA's index. */
export function nvidiaVersions(indexHtml: string): string[] {
  return [...new Set([...indexHtml.matchAll(/redistrib_(\d+(?:\.\d+){1,2})\.json/g)].map((m) => m[1]!))];
}

export interface UbuntuRelease {
  version: string;
  lts: boolean;
  supported: boolean;
  date?: string | undefined;
}

/** Releases in Ubuntu's meta-release file (stanzas of `Key: value`). */
export function ubuntuReleases(text: string): UbuntuRelease[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => Object.fromEntries(stanza.split('\n').flatMap((l) => { const m = /^([\w-]+):\s*(.*)$/.exec(l); return m ? [[m[1]!, m[2]!.trim()]] : []; })) as Record<string, string>)
    .filter((s) => s.Version)
    .map((s) => {
      const v = /^(\d+\.\d+)/.exec(s.Version!)![1]!;
      return { version: v, lts: /LTS/.test(s.Version!), supported: s.Supported === '1', date: s.Date };
    });
}

export interface Advisory {
  ghsa: string;
  cves: string[];
  url: string;
  severity?: string | undefined;
  patched: string[];
}

/** Published advisories of a repository (GitHub REST: repository security advisories) with the versions that fix them. */
export function advisories(json: string): Advisory[] {
  const list = JSON.parse(json) as Record<string, unknown>[];
  if (!Array.isArray(list)) return [];
  return list.map((a) => {
    const vulns = (a.vulnerabilities as { patched_versions?: string | null }[] | undefined) ?? [];
    const patched = vulns.flatMap((v) => [...(v.patched_versions ?? '').matchAll(/\d+\.\d+\.\d+/g)].map((m) => m[0]));
    const ids = [a.cve_id, ...((a.identifiers as { type: string; value: string }[] | undefined) ?? []).filter((i) => i.type === 'CVE').map((i) => i.value)];
    return {
      ghsa: String(a.ghsa_id ?? ''),
      cves: [...new Set(ids.filter((x): x is string => typeof x === 'string' && x.length > 0))],
      url: String(a.html_url ?? ''),
      severity: str(a.severity),
      patched: [...new Set(patched)],
    };
  });
}

/** The newest of some `x.y.z` versions. */
export function newest(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareDotted).at(-1);
}

/** Compare dotted numeric versions (`580.95.05` < `580.126.18`). */
export function compareDotted(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `major.minor` of a version. */
export const lineOf = (v: string) => v.split('.').slice(0, 2).join('.');
