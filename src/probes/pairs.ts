// Which node pairs the pairwise probes test: every pair (the default), or every pair within a rack or subnet plus
// representatives across them and every pair with a control plane, listing exactly what was left out. Pure.
import { isIPv4 } from 'node:net';
import type { Role } from '../config/inventory.ts';

/** `all`: every pair; `rack`: every pair within a group, representatives across groups, control planes with everyone. */
export type PairMode = 'all' | 'rack';

export interface PairNode {
  name: string;
  address: string;
  roles: readonly Role[];
  /** The inventory's `rack:`; without it the node's subnet (/24 for IPv4, /64 for IPv6) is its group. */
  rack?: string;
}

/** What the probes cover, as the report carries it (`probes.pairs`). */
export interface PairCoverage {
  mode: PairMode;
  /** The rule in words, e.g. "every pair within a rack or subnet, 2 representatives of each across them, ...". */
  rule: string;
  /** Groups (rack mode only), in inventory order of their first node. */
  groups: { name: string; nodes: string[]; representatives: string[] }[];
  /** Directed pairs probed. */
  probed: number;
  /** Every directed pair not probed (never counted as passing). */
  skipped: { from: string; to: string }[];
}

export interface PairSelection {
  coverage: PairCoverage;
  /** Each node's peers, in inventory order; symmetric (b is a's peer exactly when a is b's). */
  peers: ReadonlyMap<string, readonly string[]>;
}

/** Representatives per group in rack mode: two, so one node down in a group still leaves a path across. */
export const DEFAULT_REPRESENTATIVES = 2;

/** A node's group: its rack, else its subnet. */
export function groupOf(node: PairNode): string {
  if (node.rack) return `rack ${node.rack}`;
  if (isIPv4(node.address)) return `subnet ${node.address.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = node.address.split('::')[0]!.split(':').slice(0, 4);
  return `subnet ${groups.join(':')}::/64`;
}

/** Choose the pairs to probe among `nodes` (inventory order). */
export function selectPairs(nodes: readonly PairNode[], options: { mode: PairMode; representatives?: number }): PairSelection {
  const count = Math.max(1, options.representatives ?? DEFAULT_REPRESENTATIVES);
  const groupNames = nodes.map(groupOf);
  const groups = new Map<string, PairNode[]>();
  nodes.forEach((n, i) => groups.set(groupNames[i]!, [...(groups.get(groupNames[i]!) ?? []), n]));
  const isCp = (n: PairNode) => n.roles.includes('control-plane');
  // Control planes first (they are probed by everyone anyway), then inventory order.
  const reps = new Set([...groups.values()].flatMap((g) => [...g.filter(isCp), ...g.filter((n) => !isCp(n))].slice(0, count).map((n) => n.name)));
  const covered = (a: number, b: number): boolean =>
    options.mode === 'all' || groupNames[a] === groupNames[b] || isCp(nodes[a]!) || isCp(nodes[b]!) || (reps.has(nodes[a]!.name) && reps.has(nodes[b]!.name));
  const peers = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  const skipped: PairCoverage['skipped'] = [];
  let probed = 0;
  for (let a = 0; a < nodes.length; a++)
    for (let b = 0; b < nodes.length; b++) {
      if (a === b) continue;
      if (covered(a, b)) {
        peers.get(nodes[a]!.name)!.push(nodes[b]!.name);
        probed++;
      } else skipped.push({ from: nodes[a]!.name, to: nodes[b]!.name });
    }
  const rule =
    options.mode === 'all'
      ? 'every pair of nodes, both directions'
      : `every pair within a rack (or, without rack:, a subnet), ${count} representative(s) of each group with every other group's, and every node with every control plane`;
  return {
    peers,
    coverage: {
      mode: options.mode,
      rule,
      groups: options.mode === 'all' ? [] : [...groups].map(([name, g]) => ({ name, nodes: g.map((n) => n.name), representatives: g.filter((n) => reps.has(n.name)).map((n) => n.name) })),
      probed,
      skipped,
    },
  };
}
