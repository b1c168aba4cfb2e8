// resolve(catalog, request, now): the one consistent stack an expert would pick, or the conflicting rules.
// Pure: no I/O, the date comes in as `now` (end-of-life rules depend on it). createResolver keeps each
// component's pick for one date, so enumerating thousands of requests re-decides nothing.
import type { Decision, HostChange, Stack } from '../config/lock.ts';
import { InternalError, type Conflict } from '../errors.ts';
import type { Catalog, CniEntry, KubeEntry, OsEntry } from './catalog.ts';
import { decide, kubeCandidates, kubeDecision, pickCgroup, pickCni, pickContainerd, pickCrio, pickDriver, pickRunc, type Picked } from './pickers.ts';
import type { Pin, ResolveRequest } from './request.ts';
import { dayOf, isPast } from './version.ts';

export interface Resolved {
  ok: true;
  request: ResolveRequest;
  gpu: { model: string; architecture: string } | null;
  stack: Stack;
  /** The matrix entries behind the stack, for images and the lock. */
  kube: KubeEntry;
  cni: CniEntry;
  decisions: Decision[];
  hostChanges: HostChange[];
  warnings: string[];
}
export interface Refused {
  ok: false;
  request: ResolveRequest;
  conflicts: Conflict[];
}
export type Resolution = Resolved | Refused;
export type Resolver = (request: ResolveRequest) => Resolution;

/** How long the distribution supports the OS release, for the OS decision's reason. */
function osLife(os: OsEntry, past: boolean): string {
  const kind = os.eus ? 'Extended Update Support' : 'supported';
  return past ? `end-of-life since ${os.eol}` : `${kind} until ${os.eol}`;
}

/** Resolve one request against the precomputed matrix. */
export function resolve(catalog: Catalog, request: ResolveRequest, now: Date): Resolution {
  return createResolver(catalog, now)(request);
}

/** A resolver for one date that remembers every component pick by its inputs (same inputs, same pick). */
export function createResolver(catalog: Catalog, now: Date): Resolver {
  const today = dayOf(now);
  // Picks remembered in nested maps keyed by the inputs themselves (matrix entries by identity, pins by text).
  const memo = new Map<unknown, unknown>();
  const level = (node: Map<unknown, unknown>, key: unknown) => {
    let next = node.get(key) as Map<unknown, unknown> | undefined;
    if (!next) node.set(key, (next = new Map()));
    return next;
  };
  const once = <V>(what: string, a: unknown, b: unknown, c: unknown, d: unknown, make: () => V): V => {
    const node = level(level(level(level(memo, what), a), b), c);
    let value = node.get(d) as V | undefined;
    if (value === undefined) node.set(d, (value = make()));
    return value;
  };
  const pinKey = (pin: Pin | undefined) => pin?.text ?? '';

  return (request) => {
    const os = catalog.os.get(request.os);
    if (!os) throw new InternalError(`resolve got an unchecked OS ${request.os}; run parseRequest first`);
    const gpu = request.gpu ? catalog.gpus.get(request.gpu) : undefined;
    if (request.gpu && !gpu) throw new InternalError(`resolve got an unchecked GPU ${request.gpu}`);
    const driverPin = request.pins['nvidia-driver'];
    const driver = gpu ? once('driver', gpu, pinKey(driverPin), null, null, () => pickDriver(catalog, gpu, driverPin, today)) : null;
    if (driver && !driver.ok) return { ok: false, request, conflicts: driver.conflicts };
    const osPast = isPast(os.eol, today);
    const osDecision = once('os', os, null, null, null, () =>
      decide('os', os.id, osPast ? ['request', 'end-of-life'] : ['request'], `${os.name}: kernel ${os.kernel}, systemd ${os.systemd}, boots cgroup ${os.cgroupDefault}; ${osLife(os, osPast)}`, [os, os.lifecycle]),
    );
    const osWarnings = osPast ? [`${os.name} is end-of-life since ${os.eol}${os.eus ? ' (Extended Update Support ended)' : ''}; move the nodes to a supported release`] : [];

    const kubePin = request.pins.kubernetes;
    const kubes = once('kubes', pinKey(kubePin), null, null, null, () =>
      kubeCandidates(catalog, kubePin).sort((a, b) => Number(isPast(a.eol, today)) - Number(isPast(b.eol, today)) || a.rank[0]! - b.rank[0]!),
    );
    const conflicts = new Map<string, Conflict>();
    const fail = (cs: Conflict[]) => {
      for (const c of cs) if (!conflicts.has(c.message)) conflicts.set(c.message, c);
    };
    for (const kc of kubes) {
      const kube = kc.item;
      if (!kube.kubeadmImages) {
        fail([{ rules: ['kubeadm-images-known'], message: `the matrix does not know the images kubeadm ${kube.minor} deploys (etcd, CoreDNS, pause)` }]);
        continue;
      }
      const cgroup = once('cgroup', os, kube, request.cgroup, null, () => pickCgroup(catalog, os, kube, request.cgroup));
      if (!cgroup.ok) {
        fail(cgroup.conflicts);
        continue;
      }
      let containerd = null;
      let cri: Picked<unknown>;
      if (request.cri === 'containerd') {
        const pin = request.pins.containerd;
        const picked = once('containerd', kube, cgroup.value, pinKey(pin), null, () => pickContainerd(catalog, kube, cgroup.value, pin, today));
        if (!picked.ok) {
          fail(picked.conflicts);
          continue;
        }
        containerd = picked.value;
        cri = picked;
      } else {
        const pin = request.pins['cri-o'];
        cri = once('crio', kube, pinKey(pin), null, null, () => pickCrio(catalog, kube, pin));
        if (!cri.ok) {
          fail(cri.conflicts);
          continue;
        }
      }
      const runcPin = request.pins.runc;
      const runc = once('runc', containerd, pinKey(runcPin), request.acceptRisks.join(','), null, () => pickRunc(catalog, containerd, runcPin, today, request.acceptRisks));
      if (!runc.ok) {
        fail(runc.conflicts);
        continue;
      }
      const cniPin = request.cni ? pinKey(request.pins[request.cni]) : '';
      const cni = once('cni', os, kc.version.version, request.cni, cniPin, () => pickCni(catalog, os, kube, kc.version, request, today));
      if (!cni.ok) {
        fail(cni.conflicts);
        continue;
      }
      const kubePart = once('kube', kube, pinKey(kubePin), null, null, () => kubeDecision(kc, kubePin, isPast(kube.eol, today)));
      const decisions = [osDecision, cgroup.decision, kubePart.decision, cri.decision, runc.decision];
      if (driver) decisions.push(driver.decision);
      decisions.push(cni.decision);
      const warnings: string[] = [];
      for (const list of [osWarnings, kubePart.warnings, cgroup.warnings, cri.warnings, runc.warnings, driver ? driver.warnings : [], cni.warnings])
        for (const w of list) warnings.push(w);
      const unverified: string[] = [];
      for (const d of decisions) if (d.rules.includes('unverified-fact')) unverified.push(d.component);
      if (unverified.length > 0) warnings.push(`these choices rest on matrix facts not yet confirmed from a primary source: ${unverified.join(', ')}`);
      return {
        ok: true,
        request,
        gpu: driver && gpu ? { model: gpu.id, architecture: gpu.architecture } : null,
        stack: {
          os: { id: os.distro, version: os.version, family: os.family, arch: request.arch },
          kernel: os.kernel,
          cgroup: cgroup.value,
          kubernetes: kc.version.version,
          cri: { name: request.cri, version: cri.decision.version },
          runc: runc.decision.version,
          nvidiaDriver: driver ? { branch: driver.value.branch.branch, version: driver.value.version, kernelModule: driver.value.kernelModule } : null,
          cni: { name: cni.value.name, version: cni.decision.version },
        },
        kube,
        cni: cni.value,
        decisions,
        hostChanges: [...cgroup.hostChanges, ...(driver ? driver.hostChanges : [])],
        warnings,
      };
    }
    return { ok: false, request, conflicts: [...conflicts.values()] };
  };
}
