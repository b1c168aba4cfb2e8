// A node's facts as install's phases use them: the facts gather.sh read (doctor's too), with what the phases ask
// most (the running kernel, the machine, the interface of the inventory address) at hand. One script, one parser:
// this is a view of Facts, not a second reading.
import { UserError } from '../errors.ts';
import { interfaceOf } from './parse-network.ts';
import { parseFacts } from './parse.ts';
import type { Facts } from './types.ts';

export interface NodeFacts {
  os: Facts['os'];
  /** `uname -r`. */
  kernel: string;
  /** `uname -m`, e.g. x86_64, aarch64. */
  machine: string;
  /** The interface that carries the node's inventory address (keepalived binds the VIP there). */
  interface: string | undefined;
  /** The admin host's address as the node sees it ($SSH_CLIENT of ferry's session), when the shell has it. */
  adminAddress?: string;
  /** Everything gather.sh read: preflight's doctor gate checks these, without reading the node again. */
  gathered: Facts;
}

/** The phases' view of `facts`; `address` is the node's inventory address. Refuses facts without an OS or kernel. */
export function nodeFactsOf(facts: Facts, address: string): NodeFacts {
  if (facts.os.id === 'unknown') throw new UserError(`${facts.host}: /etc/os-release names no ID`, { hint: 'ferry supports RHEL, Rocky, Alma 8/9, Debian and Ubuntu' });
  if (!facts.kernel.release || !facts.kernel.arch) throw new UserError(`${facts.host}: the facts script printed no kernel release or machine (uname -srm)`);
  return {
    os: facts.os, kernel: facts.kernel.release, machine: facts.kernel.arch, interface: interfaceOf(facts.addresses, address),
    ...(facts.adminAddress ? { adminAddress: facts.adminAddress } : {}), gathered: facts,
  };
}

/** gather.sh output of host `host` as the phases' view. */
export function parseNodeFacts(host: string, output: string, address: string): NodeFacts {
  return nodeFactsOf(parseFacts(host, output), address);
}
