// Test helper: shell text that, run under `unshare --net`, joins the current network namespace to a second one
// (held by a `sleep` whose PID is $PEER) with a veth pair. The caller kills $PEER at the end; the namespaces,
// the veth and the addresses vanish with their processes.
import { quote } from '../../src/hosts/shell.ts';

export interface VethEnd {
  ifname: string;
  /** Addresses with prefix, e.g. 10.251.7.1/24. */
  addresses: readonly string[];
}

/** The preamble; afterwards `in_peer CMD...` runs a command in the second namespace. */
export function vethPairScript(here: VethEnd, peer: VethEnd, lifetimeSeconds = 60): string {
  const addrs = (end: VethEnd) => end.addresses.map((a) => `ip addr add ${quote(a)} dev ${quote(end.ifname)}`).join('; ');
  return `
      ip link set lo up
      unshare --net sleep ${lifetimeSeconds} & PEER=$!
      sleep 0.2
      in_peer() { nsenter --net=/proc/$PEER/ns/net "$@"; }
      ip link add ${quote(here.ifname)} type veth peer name ${quote(peer.ifname)}
      ip link set ${quote(peer.ifname)} netns $PEER
      ${addrs(here)}; ip link set ${quote(here.ifname)} up
      in_peer sh -ec ${quote(`ip link set lo up; ${addrs(peer)}; ip link set ${peer.ifname} up`)}`;
}
