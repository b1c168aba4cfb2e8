// Fan work out over many hosts with a bound on how many run at once; one host's failure never stops the others.
import { mapPool } from '../util/map-pool.ts';

/** The outcome for one host: its value, or the error it threw. */
export type HostOutcome<T> = { host: string; ok: true; value: T } | { host: string; ok: false; error: unknown };

/** Run `work` for every host, at most `concurrency` at a time (default 30); outcomes in input order. */
export async function mapHosts<H extends { readonly name: string }, T>(
  hosts: readonly H[],
  work: (host: H) => Promise<T>,
  options: { concurrency?: number } = {},
): Promise<HostOutcome<T>[]> {
  // The wrapped function never throws, so the pool never stops early: one host's failure leaves the others running.
  return mapPool(hosts, Math.max(1, options.concurrency ?? 30), async (host): Promise<HostOutcome<T>> => {
    try {
      return { host: host.name, ok: true, value: await work(host) };
    } catch (error) {
      return { host: host.name, ok: false, error };
    }
  });
}
