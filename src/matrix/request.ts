// What the operator asks resolve for, checked against the matrix: unknown OS, GPU, component or a malformed pin
// is a UserError (exit 2) that names what is wrong and what is known. Pure.
import type { SemVer } from 'semver';
import { UserError } from '../errors.ts';
import type { Catalog } from './catalog.ts';
import { normalizeOsId } from './os-release.ts';
import { parseVersion } from './version.ts';

export const PIN_COMPONENTS = ['kubernetes', 'containerd', 'cri-o', 'runc', 'nvidia-driver', 'calico', 'cilium', 'flannel'] as const;
export type PinComponent = (typeof PIN_COMPONENTS)[number];
export type CniName = 'calico' | 'cilium' | 'flannel';
const CNIS: readonly CniName[] = ['calico', 'cilium', 'flannel'];

/** The request as the user gave it (strings only): what the lock records. */
export interface RawRequest {
  os: string;
  /** More OS releases the same stack must fit (a mixed cluster; `ferry resolve --os A --os B`). */
  alsoOs?: readonly string[] | undefined;
  gpu?: string | undefined;
  k8s?: string | undefined;
  cri?: string | undefined;
  cni?: string | undefined;
  cgroup?: string | undefined;
  arch?: string | undefined;
  pins?: readonly string[] | undefined;
  /** Rule ids whose refusal the operator accepts (see ACCEPTABLE_RISKS). */
  acceptRisks?: readonly string[] | undefined;
}

/** A pinned version: the line it names ("1.35", "580") and whether a whole version was given. */
export interface Pin {
  text: string;
  line: string;
  exact: SemVer | null;
}

export interface ResolveRequest {
  os: string;
  gpu: string | null;
  cri: 'containerd' | 'cri-o';
  cni: CniName | null;
  cgroup: 'v1' | 'v2' | null;
  arch: 'amd64' | 'arm64';
  pins: Partial<Record<PinComponent, Pin>>;
  /** Refusals the operator accepts: runc security floors and runc-min-for-containerd only. */
  acceptRisks: readonly string[];
}

/**
 * The refusals an operator may accept with --accept-risk: a runc below a security floor or below the runc containerd
 * was tested with. The case is a distribution's runc that carries backported fixes under an older upstream version
 * (Debian 12's 1.1.5+ds1-1+deb12u1 fixes CVE-2024-21626, DSA-5615-1). Compatibility rules are never acceptable.
 */
export function acceptableRisks(catalog: Catalog): string[] {
  return [...catalog.runcFloors.map((f) => f.id), 'runc-min-for-containerd'];
}

const known = (values: Iterable<string>) => [...values].join(', ');

/** Parse `component=version`; the version names a known line (1.35, 580) or a whole version in one (1.35.2, 580.95.05). */
export function parsePin(catalog: Catalog, text: string): [PinComponent, Pin] {
  const m = /^([a-z-]+)=(\d+(?:\.\d+){0,2})$/.exec(text.trim());
  if (!m) throw new UserError(`malformed pin "${text}": expected component=version, e.g. kubernetes=1.35 or nvidia-driver=580`, { hint: `components: ${known(PIN_COMPONENTS)}` });
  const component = m[1] as PinComponent;
  if (!PIN_COMPONENTS.includes(component))
    throw new UserError(`unknown component "${m[1]}" in pin "${text}" (known: ${known(PIN_COMPONENTS)})`);
  const raw = m[2]!;
  const parts = raw.split('.');
  const isDriver = component === 'nvidia-driver';
  const line = isDriver ? parts[0]! : parts.slice(0, 2).join('.');
  const lines = catalog.pinLines.get(component) ?? [];
  if ((!isDriver && parts.length < 2) || !lines.includes(line))
    throw new UserError(`unknown ${component} version "${raw}" in pin "${text}" (known: ${known(lines)})`);
  const exact = parts.length === 3 ? parseVersion(raw) : null;
  return [component, { text: raw, line, exact }];
}

/** Check a raw request against the matrix and normalise it. */
export function parseRequest(catalog: Catalog, raw: RawRequest): ResolveRequest {
  const os = normalizeOsId(catalog, raw.os);
  const gpu = raw.gpu?.toLowerCase() ?? null;
  if (gpu !== null && !catalog.gpus.has(gpu))
    throw new UserError(`unknown GPU "${raw.gpu}" (known: ${known(catalog.gpus.keys())})`);
  const pins: Partial<Record<PinComponent, Pin>> = {};
  for (const text of raw.pins ?? []) {
    const [component, pin] = parsePin(catalog, text);
    if (pins[component]) throw new UserError(`${component} is pinned twice (${pins[component].text} and ${pin.text})`);
    pins[component] = pin;
  }
  if (raw.k8s !== undefined) {
    const [, pin] = parsePin(catalog, `kubernetes=${raw.k8s}`);
    if (pins.kubernetes && pins.kubernetes.text !== pin.text)
      throw new UserError(`--k8s ${raw.k8s} disagrees with --pin kubernetes=${pins.kubernetes.text}`);
    pins.kubernetes = pin;
  }
  const cri = raw.cri ?? (pins['cri-o'] ? 'cri-o' : 'containerd');
  if (cri !== 'containerd' && cri !== 'cri-o') throw new UserError(`unknown CRI "${cri}" (known: containerd, cri-o)`);
  const otherCri = cri === 'containerd' ? 'cri-o' : 'containerd';
  if (pins[otherCri]) throw new UserError(`--pin ${otherCri}=${pins[otherCri].text} does not fit --cri ${cri}`);
  const pinnedCnis = CNIS.filter((c) => pins[c]);
  if (pinnedCnis.length > 1) throw new UserError(`pins name more than one CNI: ${pinnedCnis.join(', ')}`);
  const cniText = raw.cni ?? pinnedCnis[0] ?? null;
  if (cniText !== null && !CNIS.includes(cniText as CniName)) throw new UserError(`unknown CNI "${cniText}" (known: ${known(CNIS)})`);
  if (cniText !== null && pinnedCnis[0] && pinnedCnis[0] !== cniText)
    throw new UserError(`--pin ${pinnedCnis[0]}=${pins[pinnedCnis[0]]!.text} does not fit --cni ${cniText}`);
  const cgroup = raw.cgroup ?? null;
  if (cgroup !== null && cgroup !== 'v1' && cgroup !== 'v2' && cgroup !== 'auto')
    throw new UserError(`unknown cgroup version "${cgroup}" (known: v1, v2, auto)`);
  const arch = raw.arch ?? 'amd64';
  if (arch !== 'amd64' && arch !== 'arm64') throw new UserError(`unknown architecture "${arch}" (known: amd64, arm64)`);
  return {
    os,
    gpu,
    cri,
    cni: cniText as CniName | null,
    cgroup: cgroup === 'auto' ? null : (cgroup as 'v1' | 'v2' | null),
    arch,
    pins,
    acceptRisks: parseAcceptRisks(catalog, raw.acceptRisks ?? []),
  };
}

/**
 * One request per OS release of `raw` (`os`, then `alsoOs`), otherwise the same; an OS named twice (also as another
 * spelling of it, such as alma-9.4 and almalinux-9.4) is refused.
 */
export function parseRequests(catalog: Catalog, raw: RawRequest): ResolveRequest[] {
  const first = parseRequest(catalog, raw);
  const requests = [first, ...(raw.alsoOs ?? []).map((os) => ({ ...first, os: normalizeOsId(catalog, os) }))];
  const seen = new Set<string>();
  for (const r of requests) {
    if (seen.has(r.os)) throw new UserError(`--os ${r.os} is named twice`);
    seen.add(r.os);
  }
  return requests;
}

function parseAcceptRisks(catalog: Catalog, given: readonly string[]): string[] {
  const acceptable = acceptableRisks(catalog);
  for (const id of given)
    if (!acceptable.includes(id)) throw new UserError(`--accept-risk ${id}: only these refusals can be accepted: ${acceptable.join(', ')}`, { hint: 'compatibility rules cannot be overridden; change the request instead' });
  return [...new Set(given)].sort();
}
