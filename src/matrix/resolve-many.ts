// Resolving one stack for several OS releases at once (a mixed cluster: EL control planes and a Debian worker, from
// one bundle). Kubernetes, the CRI, runc, the CNI and the NVIDIA driver are one choice valid on every OS; each OS keeps
// its own kernel series and cgroup (and host changes). Pure: `resolve` per OS, then each OS's own pick tried as pins
// on all of them, first OS first; a refusal names the OS that forced it.
import type { Stack } from '../config/lock.ts';
import type { Conflict } from '../errors.ts';
import type { Catalog } from './catalog.ts';
import { parsePin, type PinComponent, type ResolveRequest } from './request.ts';
import { createResolver, type Refused, type Resolved } from './resolve.ts';

/** A mixed resolution: the first OS's view (`stack.os` its OS) with the others in `stack.alsoOs`. */
export type MixedResolution = Resolved | Refused;

/** The pins that hold every OS to the components `stack` chose (exact versions; the CNI by name). */
export function pinsOf(catalog: Catalog, stack: Stack): Pick<ResolveRequest, 'pins' | 'cni'> {
  const exact: [PinComponent, string][] = [
    ['kubernetes', stack.kubernetes],
    [stack.cri.name, stack.cri.version],
    ['runc', stack.runc],
    [stack.cni.name, stack.cni.version],
    ...(stack.nvidiaDriver ? [['nvidia-driver', stack.nvidiaDriver.version] as [PinComponent, string]] : []),
  ];
  return { pins: Object.fromEntries(exact.map(([c, v]) => parsePin(catalog, `${c}=${v}`))), cni: stack.cni.name };
}

/** The components every OS shares, as one line (for messages). */
export function sharedChoice(stack: Stack): string {
  const driver = stack.nvidiaDriver ? `, NVIDIA ${stack.nvidiaDriver.version}` : '';
  return `Kubernetes ${stack.kubernetes}, ${stack.cri.name} ${stack.cri.version}, runc ${stack.runc}, ${stack.cni.name} ${stack.cni.version}${driver}`;
}

const onOs = (os: string, cs: readonly Conflict[]): Conflict[] => cs.map((c) => ({ rules: c.rules, message: `${os}: ${c.message}` }));

/**
 * One stack for every request (the same request on each OS of `requests[i].os`). A single request is plain `resolve`.
 * Refusals: an OS that has no stack of its own (its conflicts, named by OS), or no OS's own choice valid on all (for
 * each, the OS that refused it and why).
 */
export function resolveMixed(catalog: Catalog, requests: readonly ResolveRequest[], now: Date): MixedResolution {
  const resolver = createResolver(catalog, now);
  const own = requests.map((r) => resolver(r));
  if (requests.length === 1) return own[0]!;
  const refusedAlone = own.flatMap((r, i) => (r.ok ? [] : onOs(requests[i]!.os, r.conflicts)));
  if (refusedAlone.length > 0) return { ok: false, request: requests[0]!, conflicts: refusedAlone };
  const conflicts: Conflict[] = [];
  for (const [c, candidate] of own.entries()) {
    if (!candidate.ok) continue;
    const pins = pinsOf(catalog, candidate.stack);
    const held = requests.map((r, i) => (i === c ? candidate : resolver({ ...r, ...pins, pins: { ...r.pins, ...pins.pins } })));
    const refusing = held.flatMap((h, i) => (h.ok ? [] : [{ os: requests[i]!.os, conflicts: h.conflicts }]));
    if (refusing.length > 0) {
      for (const r of refusing)
        conflicts.push(...r.conflicts.map((x) => ({ rules: x.rules, message: `${r.os} refuses what ${requests[c]!.os} takes (${sharedChoice(candidate.stack)}): ${x.message}` })));
      continue;
    }
    return merge(requests, own as Resolved[], held as Resolved[], c);
  }
  return { ok: false, request: requests[0]!, conflicts };
}

/** The first OS's resolution with every OS's own `os` and `cgroup` decisions, host changes and `alsoOs`. */
function merge(requests: readonly ResolveRequest[], own: readonly Resolved[], held: readonly Resolved[], chosen: number): Resolved {
  const base = held[chosen]!;
  // The OS and cgroup decisions name their release ("Rocky Linux 9.4: ...").
  const osDecisions = held.flatMap((h) => h.decisions.filter((d) => d.component === 'os' || d.component === 'cgroup'));
  const shared = base.decisions.filter((d) => d.component !== 'os' && d.component !== 'cgroup');
  const hostChanges = new Map<string, Resolved['hostChanges'][number]>();
  held.forEach((h, i) => {
    for (const change of h.hostChanges) {
      const seen = hostChanges.get(change.id);
      const on = `${requests[i]!.os}`;
      hostChanges.set(change.id, seen ? { ...seen, description: seen.description.replace(/ \(on ([^)]*)\)$/, ` (on $1, ${on})`) } : { ...change, description: `${change.description} (on ${on})` });
    }
  });
  const warnings = [...new Set(held.flatMap((h) => h.warnings))];
  own.forEach((o, i) => {
    if (i !== chosen && sharedChoice(o.stack) !== sharedChoice(base.stack))
      warnings.push(`${requests[i]!.os} alone would take ${sharedChoice(o.stack)}; every OS takes what ${requests[chosen]!.os} takes, valid on all`);
  });
  const first = held[0]!;
  return {
    ...base,
    request: requests[0]!,
    stack: {
      ...base.stack,
      os: first.stack.os,
      kernel: first.stack.kernel,
      cgroup: first.stack.cgroup,
      alsoOs: held.slice(1).map((h) => ({ os: h.stack.os, kernel: h.stack.kernel, cgroup: h.stack.cgroup })),
    },
    decisions: [...osDecisions, ...shared],
    hostChanges: [...hostChanges.values()],
    warnings,
  };
}
