// Which link carries a node's cluster traffic: the one holding its inventory address, else the default route's.
import type { Facts, NetLink } from '../facts/types.ts';

/** The link of `facts` that holds `address`, or the default-route link. */
export function clusterLink(facts: Facts, address: string): NetLink | undefined {
  const iface = facts.addresses.find((a) => a.address === address)?.iface ?? facts.defaultRouteIface;
  return facts.links.find((l) => l.name === iface);
}
