// Compare the matrix with what its primary sources say now: new patches, new lines (minors, branches), changed
// ends of life, new runc CVE fixes, and facts the source contradicts. Rules that need a human reading (which
// containerd serves a Kubernetes minor, which driver branch serves a GPU, a CNI's tested range) become "read this"
// items, never values. Pure.
import type { Matrix } from '../matrix/schema.ts';
import { compareDotted, lineOf, type Advisory, type KubeObserved, type UbuntuRelease } from './parse.ts';
import type { TagComponent } from './sources.ts';

export type ChangeKind = 'new-patch' | 'new-line' | 'eol-changed' | 'cve-floor' | 'disagrees' | 'read-this';

export interface RefreshChange {
  kind: ChangeKind;
  /** Matrix file family: kubernetes, containerd, cri-o, runc, nvidia, cni, os. */
  family: string;
  /** What the change is about: `kubernetes 1.36`, `calico 3.32`, `R580`. */
  subject: string;
  field?: 'latest' | 'eol' | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** The primary source of the new value (or the page to read). */
  source: string;
  message: string;
  /** `--write` applies it (otherwise a person must read the source). */
  writable: boolean;
  /** For new lines `--write` adds: the values of the new entry. */
  entry?: Record<string, string> | undefined;
}

export interface Observations {
  kubernetes?: { releases: Map<string, KubeObserved>; source: string; eolSource: string };
  tags?: Partial<Record<TagComponent, { versions: string[]; repo: string }>>;
  runcAdvisories?: { advisories: Advisory[]; repo: string };
  nvidia?: { versions: string[]; index: string };
  ubuntu?: { releases: UbuntuRelease[]; source: string };
}

const tagUrl = (repo: string, v: string) => `${repo}/releases/tag/v${v}`;

/** Newest stable patch per `major.minor` line. */
function newestPerLine(versions: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of versions) {
    const line = lineOf(v);
    const cur = out.get(line);
    if (!cur || compareDotted(v, cur) > 0) out.set(line, v);
  }
  return out;
}

/** A newer patch than the matrix knows (written), or an older newest than the matrix claims (reported only). */
function patchChange(family: string, subject: string, latest: string, seen: string, source: string): RefreshChange[] {
  const c = compareDotted(seen, latest);
  if (c > 0) return [{ kind: 'new-patch', family, subject, field: 'latest', from: latest, to: seen, source, message: `${subject}: ${seen} is out (matrix: ${latest})`, writable: true }];
  if (c < 0) return [{ kind: 'disagrees', family, subject, field: 'latest', from: latest, to: seen, source, message: `${subject}: the matrix says ${latest}, but its source's newest is ${seen}`, writable: false }];
  return [];
}

/** Changes for entries keyed by line with a `latest`, against the newest tag of each line; lines newer than all known. */
function lineChanges(opts: {
  family: string;
  name: string;
  entries: { line: string; latest: string }[];
  versions: string[];
  url: (v: string) => string;
  newLine: (line: string, v: string) => Pick<RefreshChange, 'writable' | 'message' | 'entry' | 'source'>;
}): RefreshChange[] {
  const out: RefreshChange[] = [];
  const perLine = newestPerLine(opts.versions);
  for (const e of opts.entries) {
    const seen = perLine.get(e.line);
    const subject = `${opts.name} ${e.line}`;
    if (!seen) continue; // the source has no tag of this line (e.g. a pre-release-only line): nothing to say
    out.push(...patchChange(opts.family, subject, e.latest, seen, opts.url(seen)));
  }
  const known = opts.entries.map((e) => e.line).sort(compareDotted).at(-1);
  for (const [line, v] of [...perLine].sort((a, b) => compareDotted(a[0], b[0]))) {
    if (known && compareDotted(line, known) > 0)
      out.push({ kind: 'new-line', family: opts.family, subject: `${opts.name} ${line}`, to: v, ...opts.newLine(line, v) });
  }
  return out;
}

/** Every difference between the matrix and the observations. */
export function diffMatrix(matrix: Matrix, obs: Observations): RefreshChange[] {
  const out: RefreshChange[] = [];
  if (obs.kubernetes) out.push(...kubernetesChanges(matrix, obs.kubernetes));
  const tags = obs.tags ?? {};
  if (tags.containerd) {
    const { versions, repo } = tags.containerd;
    out.push(...lineChanges({
      family: 'containerd', name: 'containerd', versions, url: (v) => tagUrl(repo, v),
      entries: matrix.containerd.releases.map((c) => ({ line: c.branch, latest: c.latest })),
      newLine: (line, v) => ({ writable: false, source: `${repo}/blob/main/RELEASES.md`, message: `containerd ${line} is out (${v}): read RELEASES.md for its end of life, LTS status and the Kubernetes minors it is recommended for, and script/setup/runc-version for its runc` }),
    }));
  }
  if (tags.runc) {
    const { versions, repo } = tags.runc;
    out.push(...lineChanges({
      family: 'runc', name: 'runc', versions, url: (v) => tagUrl(repo, v),
      entries: matrix.runc.releases.map((r) => ({ line: r.branch, latest: r.latest })),
      newLine: (line, v) => ({ writable: true, source: tagUrl(repo, v), entry: { branch: line, latest: v }, message: `runc ${line} is out (${v}); RELEASES.md: the branch two minors older now gets only high-severity fixes and the one before it nothing (add its eol)` }),
    }));
  }
  if (tags['cri-o']) {
    const { versions, repo } = tags['cri-o'];
    out.push(...lineChanges({
      family: 'cri-o', name: 'CRI-O', versions, url: (v) => tagUrl(repo, v),
      entries: matrix.crio.releases.map((c) => ({ line: c.minor, latest: c.latest })),
      newLine: (line, v) => ({ writable: true, source: tagUrl(repo, v), entry: { minor: line, latest: v }, message: `CRI-O ${line} is out (${v}) for Kubernetes ${line}` }),
    }));
  }
  for (const cni of ['calico', 'cilium', 'flannel'] as const) {
    const t = tags[cni];
    if (!t) continue;
    out.push(...lineChanges({
      family: 'cni', name: cni, versions: t.versions, url: (v) => tagUrl(t.repo, v),
      entries: matrix.cni.releases.filter((r) => r.name === cni).map((r) => ({ line: r.minor, latest: r.latest })),
      newLine: (line, v) => ({ writable: false, source: tagUrl(t.repo, v), message: `${cni} ${line} is out (${v}): read its Kubernetes requirements and kernel minimum before adding it` }),
    }));
  }
  if (obs.runcAdvisories) out.push(...advisoryChanges(matrix, obs.runcAdvisories));
  if (obs.nvidia) out.push(...nvidiaChanges(matrix, obs.nvidia));
  if (obs.ubuntu) out.push(...ubuntuChanges(matrix, obs.ubuntu));
  return out;
}

function kubernetesChanges(matrix: Matrix, k: NonNullable<Observations['kubernetes']>): RefreshChange[] {
  const out: RefreshChange[] = [];
  for (const r of matrix.kubernetes.releases) {
    const seen = k.releases.get(r.minor);
    if (!seen) continue;
    const source = seen.ended ? k.eolSource : k.source;
    const subject = `kubernetes ${r.minor}`;
    if (seen.latest) out.push(...patchChange('kubernetes', subject, r.latest, seen.latest, source));
    if (seen.eol && seen.eol !== r.eol)
      out.push({ kind: 'eol-changed', family: 'kubernetes', subject, field: 'eol', from: r.eol, to: seen.eol, source, message: `${subject}: end of life ${seen.eol} (matrix: ${r.eol})`, writable: true });
  }
  const known = matrix.kubernetes.releases.map((r) => r.minor).sort(compareDotted).at(-1);
  for (const [minor, seen] of [...k.releases].sort((a, b) => compareDotted(a[0], b[0]))) {
    if (!known || compareDotted(minor, known) <= 0 || !seen.latest || !seen.eol || !seen.released) continue;
    out.push({
      kind: 'new-line', family: 'kubernetes', subject: `kubernetes ${minor}`, to: seen.latest, source: k.source, writable: true,
      entry: { minor, latest: seen.latest, released: seen.released, eol: seen.eol },
      message: `Kubernetes ${minor} is out (${seen.latest}, end of life ${seen.eol}); it stays unchosen until its containerd row (containerd RELEASES.md) and kubeadm images (cmd/kubeadm/app/constants/constants.go on release-${minor}) are read`,
    });
  }
  return out;
}

function advisoryChanges(matrix: Matrix, a: NonNullable<Observations['runcAdvisories']>): RefreshChange[] {
  const out: RefreshChange[] = [];
  const floors = matrix.runc.securityFloors;
  for (const adv of a.advisories) {
    const floor = floors.find((f) => adv.cves.some((c) => f.cves.includes(c)));
    const url = adv.url || `${a.repo}/security/advisories/${adv.ghsa}`;
    const name = adv.cves.join(', ') || adv.ghsa;
    if (!floor) {
      out.push({ kind: 'cve-floor', family: 'runc', subject: `runc ${name}`, to: adv.patched.join(', '), source: url, writable: false, message: `runc advisory ${name} (${adv.severity ?? 'severity not given'}) is fixed in ${adv.patched.join(', ') || 'no release named'}: read it and add a securityFloors entry if ferry must refuse older runc` });
      continue;
    }
    const missing = adv.patched.filter((v) => !floor.fixedIn.some((f) => lineOf(f) === lineOf(v)));
    if (missing.length > 0)
      out.push({ kind: 'disagrees', family: 'runc', subject: `runc ${floor.id}`, from: floor.fixedIn.join(', '), to: adv.patched.join(', '), source: url, writable: false, message: `${floor.id}: the advisory names fixes in ${adv.patched.join(', ')}; the matrix lists ${floor.fixedIn.join(', ')}` });
  }
  return out;
}

function nvidiaChanges(matrix: Matrix, n: NonNullable<Observations['nvidia']>): RefreshChange[] {
  const out: RefreshChange[] = [];
  const perBranch = new Map<string, string>();
  for (const v of n.versions) {
    const b = v.split('.')[0]!;
    const cur = perBranch.get(b);
    if (!cur || compareDotted(v, cur) > 0) perBranch.set(b, v);
  }
  const manifest = (v: string) => `${n.index.replace(/\/?$/, '/')}redistrib_${v}.json`;
  for (const b of matrix.nvidia.branches) {
    const seen = perBranch.get(b.branch);
    // The index keeps only some manifests of old branches, so an older newest is no disagreement here.
    if (seen && compareDotted(seen, b.latest) > 0) out.push(...patchChange('nvidia', `R${b.branch}`, b.latest, seen, manifest(seen)));
  }
  const known = Math.max(...matrix.nvidia.branches.map((b) => Number(b.branch)));
  for (const [branch, v] of [...perBranch].sort((a, b) => Number(a[0]) - Number(b[0])))
    if (Number(branch) > known)
      out.push({ kind: 'new-line', family: 'nvidia', subject: `R${branch}`, to: v, source: manifest(v), writable: false, message: `driver branch R${branch} is out (${v}): read NVIDIA's "Supported Drivers and CUDA Toolkit Versions" page for its type and end of life, and the architecture matrix for the GPUs it serves` });
  return out;
}

function ubuntuChanges(matrix: Matrix, u: NonNullable<Observations['ubuntu']>): RefreshChange[] {
  const out: RefreshChange[] = [];
  const known = matrix.os.releases.filter((r) => r.distros.includes('ubuntu'));
  for (const r of u.releases.filter((x) => x.lts && x.supported)) {
    if (!known.some((k) => k.version === r.version))
      out.push({ kind: 'new-line', family: 'os', subject: `ubuntu ${r.version}`, to: r.version, source: u.source, writable: false, message: `Ubuntu ${r.version} LTS is supported (released ${r.date ?? '?'}): read https://ubuntu.com/about/release-cycle for its end of standard support and its GA kernel` });
  }
  return out;
}
