// RPM version comparison (rpmvercmp) and NEVRA parsing, for closures computed against a node's installed set. Pure.

export interface Nevra {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

const ARCHES = new Set(['x86_64', 'aarch64', 'noarch', 'i686', 'i386', 'ppc64le', 's390x', 'src']);

/** Compare two version (or release) strings the way rpm does: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const sep = /[^A-Za-z0-9~^]/;
  while (i < a.length || j < b.length) {
    while (i < a.length && sep.test(a[i]!)) i++;
    while (j < b.length && sep.test(b[j]!)) j++;
    // Tilde sorts before everything, even the end of the string.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret sorts after the end of the string but before anything else.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /[0-9]/.test(a[i]!);
    const seg = numeric ? /^[0-9]+/ : /^[A-Za-z]+/;
    const sa = seg.exec(a.slice(i))?.[0] ?? '';
    const sb = seg.exec(b.slice(j))?.[0] ?? '';
    i += sa.length;
    j += sb.length;
    // A numeric segment is newer than an alphabetic one.
    if (sb === '') return numeric ? 1 : -1;
    if (numeric) {
      const na = sa.replace(/^0+/, '');
      const nb = sb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length > nb.length ? 1 : -1;
      if (na !== nb) return na > nb ? 1 : -1;
    } else if (sa !== sb) {
      return sa > sb ? 1 : -1;
    }
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Compare epoch, version, release in that order. */
export function compareEvr(a: Pick<Nevra, 'epoch' | 'version' | 'release'>, b: Pick<Nevra, 'epoch' | 'version' | 'release'>): number {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  return rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

/** Parse `name-[epoch:]version-release.arch` (as `rpm -qa` prints); undefined when the text is a bare name. */
export function parseNevra(text: string): Nevra | undefined {
  const dot = text.lastIndexOf('.');
  const arch = text.slice(dot + 1);
  if (dot < 0 || !ARCHES.has(arch)) return undefined;
  const nvr = text.slice(0, dot);
  const r = nvr.lastIndexOf('-');
  const v = nvr.lastIndexOf('-', r - 1);
  if (r <= 0 || v <= 0) return undefined;
  const name = nvr.slice(0, v);
  let version = nvr.slice(v + 1, r);
  let epoch = 0;
  const colon = version.indexOf(':');
  if (colon >= 0) {
    epoch = Number(version.slice(0, colon));
    version = version.slice(colon + 1);
  }
  if (!Number.isInteger(epoch) || version === '') return undefined;
  return { name, epoch, version, release: nvr.slice(r + 1), arch };
}

/** `name-[epoch:]version-release.arch`, the epoch shown only when it is not 0. */
export function formatNevra(n: Nevra): string {
  return `${n.name}-${n.epoch ? `${n.epoch}:` : ''}${n.version}-${n.release}.${n.arch}`;
}

/**
 * Drop from a closure what the node already has: same name (and arch, when known) at the same or a newer EVR.
 * A bare name from the node counts as satisfying any version. What is kept is a superset of what the node lacks,
 * so the bundle can only be larger than needed, never short.
 */
export function subtractInstalled(closure: readonly Nevra[], installed: readonly string[]): { keep: Nevra[]; dropped: Nevra[] } {
  const byName = new Map<string, (Nevra | undefined)[]>();
  for (const entry of installed) {
    const nevra = parseNevra(entry.trim());
    const name = nevra?.name ?? entry.trim();
    byName.set(name, [...(byName.get(name) ?? []), nevra]);
  }
  const keep: Nevra[] = [];
  const dropped: Nevra[] = [];
  for (const pkg of closure) {
    const have = byName.get(pkg.name) ?? [];
    const satisfied = have.some(
      (h) => h === undefined || ((h.arch === pkg.arch || pkg.arch === 'noarch' || h.arch === 'noarch') && compareEvr(h, pkg) >= 0),
    );
    (satisfied ? dropped : keep).push(pkg);
  }
  return { keep, dropped };
}
