// Fan work out over many hosts with a bound on how many run at once; one host's failure never stops the others.
import { mapPool } from '../util/map-pool.ts';

/** The outcome for one host: its value, or the error it threw. */
export type HostOutcome<T> = { host: string; ok: true; value: T } | { host: string; ok: false; error: unknown };

/**
 * Hosts worked on at once by default (`ssh.concurrency`). ferry's own CPU per node over the node-level install is
 * 0.16–0.20 s (bench/install-scale.ts on 10 and 50 lab nodes, 2026-12-07) against 22.3 s of work on the node itself
 * (the 1-node run): 50 hosts at once keep the admin host's one thread under half a core (50 × 0.2 / 22.3 = 0.45),
 * where 30 left 500 nodes waiting 17 waves per phase instead of 10. docs/scale.md has the figures and the model.
 */
export const DEFAULT_HOST_CONCURRENCY = 50;

/** Run `work` for every host, at most `concurrency` at a time (default DEFAULT_HOST_CONCURRENCY); outcomes in input order. */
export async function mapHosts<H extends { readonly name: string }, T>(
  hosts: readonly H[],
  work: (host: H) => Promise<T>,
  options: { concurrency?: number } = {},
): Promise<HostOutcome<T>[]> {
  // The wrapped function never throws, so the pool never stops early: one host's failure leaves the others running.
  return mapPool(hosts, Math.max(1, options.concurrency ?? DEFAULT_HOST_CONCURRENCY), async (host): Promise<HostOutcome<T>> => {
    try {
      return { host: host.name, ok: true, value: await work(host) };
    } catch (error) {
      return { host: host.name, ok: false, error };
    }
  });
}
