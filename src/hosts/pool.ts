// Fan work out over many hosts with a bound on how many run at once; one host's failure never stops the others.

/** The outcome for one host: its value, or the error it threw. */
export type HostOutcome<T> = { host: string; ok: true; value: T } | { host: string; ok: false; error: unknown };

/** Run `work` for every host, at most `concurrency` at a time (default 30); outcomes in input order. */
export async function mapHosts<H extends { readonly name: string }, T>(
  hosts: readonly H[],
  work: (host: H) => Promise<T>,
  options: { concurrency?: number } = {},
): Promise<HostOutcome<T>[]> {
  const limit = Math.max(1, options.concurrency ?? 30);
  const out = new Array<HostOutcome<T>>(hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      const host = hosts[i]!;
      try {
        out[i] = { host: host.name, ok: true, value: await work(host) };
      } catch (error) {
        out[i] = { host: host.name, ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, hosts.length) }, worker));
  return out;
}
