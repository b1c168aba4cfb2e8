// The iproute2 variant of the IP-in-IP probe, for node pairs where no python agent can run: a temporary
// `ip tunnel ... mode ipip` pair with 198.18.0.0/15 addresses, pinged both ways, removed on every exit path.
import type { Host } from '../hosts/host.ts';
import { sh, type ShellCommand } from '../hosts/shell.ts';
import type { PathResult } from './types.ts';

export interface TunnelEnd {
  name: string;
  address: string;
}

/** Tunnel device name: a fixed `fd` prefix (so a later run can spot leftovers), the run id, the pair; at most 15 chars. */
export function tunnelDevice(run: string, pair: number): string {
  return `fd${run.slice(0, 8)}${pair.toString(36)}`.slice(0, 15);
}

/** Inner addresses of pair `pair`: a /31-like couple inside 198.18.0.0/15, never clashing with real networks. */
export function innerAddresses(pair: number): [string, string] {
  const n = pair * 2;
  return [`198.18.${(n >> 8) & 255}.${n & 255}`, `198.18.${(n >> 8) & 255}.${(n & 255) + 1}`];
}

/**
 * One side of the pair: create the tunnel, wait for the peer's side, ping the peer's inner address, and delete the
 * tunnel on exit, on error and on TERM/INT/HUP. Prints `ipip-tunnel ok|dropped|setup-failed`.
 */
export function tunnelScript(options: { device: string; local: string; remote: string; innerLocal: string; innerRemote: string; seconds: number }): ShellCommand {
  const { device, local, remote, innerLocal, innerRemote, seconds } = options;
  return sh`dev=${device}
trap 'ip link del "$dev" 2>/dev/null' EXIT
trap 'exit 143' TERM INT HUP
modprobe ipip 2>/dev/null
if ! { ip tunnel add "$dev" mode ipip local ${local} remote ${remote} ttl 64 && ip addr add ${innerLocal} peer ${`${innerRemote}/32`} dev "$dev" && ip link set "$dev" up; }; then echo 'ipip-tunnel setup-failed'; exit 0; fi
sleep 0.5
if ping -c 3 -i 0.3 -W 1 -w ${seconds} ${innerRemote} >/dev/null 2>&1; then echo 'ipip-tunnel ok'; else echo 'ipip-tunnel dropped'; fi`;
}

/** Probe one pair with tunnels on both ends at once; a ping needs both directions, so both get the same outcome. */
export async function probeTunnelPair(a: { host: Host; end: TunnelEnd }, b: { host: Host; end: TunnelEnd }, run: string, pair: number): Promise<PathResult[]> {
  const device = tunnelDevice(run, pair);
  const [ia, ib] = innerAddresses(pair);
  const seconds = 4;
  const side = (self: typeof a, peer: typeof a, inner: string, innerPeer: string) =>
    self.host
      .exec(['timeout', '-k', '1', String(seconds + 3), 'sh', '-c', tunnelScript({ device, local: self.end.address, remote: peer.end.address, innerLocal: inner, innerRemote: innerPeer, seconds }).shell], { allowFailure: true, timeoutMs: (seconds + 8) * 1000 })
      .then((r) => /ipip-tunnel (\S+)/.exec(r.stdout)?.[1] ?? `failed (exit ${r.exitCode})`)
      .catch((error: unknown) => `failed (${error instanceof Error ? error.message : String(error)})`);
  const [ra, rb] = await Promise.all([side(a, b, ia, ib), side(b, a, ib, ia)]);
  const both = (from: string, to: string): PathResult => {
    if (ra === 'ok' && rb === 'ok') return { from, to, outcome: 'ok', detail: 'ip tunnel ping, both ways' };
    if (ra === 'dropped' || rb === 'dropped') return { from, to, outcome: 'dropped', detail: 'ip tunnel ping failed (tells the pair, not the direction)' };
    return { from, to, outcome: 'unknown', detail: `ip tunnel probe: ${a.end.name} ${ra}, ${b.end.name} ${rb}` };
  };
  return [both(a.end.name, b.end.name), both(b.end.name, a.end.name)];
}
