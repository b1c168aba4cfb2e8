// Clock skew between nodes, measured against the admin host's clock with the round trip taken into account.
import type { ClusterCheck, ClusterContext, Finding } from '../types.ts';

/** Skew at which etcd and certificate validity start to suffer; doctor warns above it. */
export const MAX_SKEW_MS = 500;

function clockSkew(ctx: ClusterContext): Finding[] {
  const samples = ctx.probes?.clock ?? [];
  if (samples.length < 2) return [];
  const out: Finding[] = [];
  const sorted = [...samples].sort((a, b) => a.offsetMs - b.offsetMs);
  const median = sorted[Math.floor(sorted.length / 2)]!.offsetMs;
  for (const s of samples) {
    const off = s.offsetMs - median;
    // Only call it skew when it exceeds the limit by more than the measurement's own uncertainty.
    if (Math.abs(off) - s.uncertaintyMs > MAX_SKEW_MS)
      out.push({ check: 'clock-skew', host: s.host, status: 'warn', message: `clock is ${(off / 1000).toFixed(2)} s off the other nodes (±${(s.uncertaintyMs / 1000).toFixed(2)} s)`, remedy: 'synchronize every node with chrony against the same site NTP server' });
  }
  const spread = sorted.at(-1)!.offsetMs - sorted[0]!.offsetMs;
  if (out.length === 0) out.push({ check: 'clock-skew', status: 'pass', message: `clocks agree within ${spread} ms (limit ${MAX_SKEW_MS} ms)` });
  return out;
}

/** The cluster-wide clock-skew check. */
export const clockSkewCheck: ClusterCheck = { id: 'clock-skew', title: 'clock skew between nodes', run: clockSkew };
