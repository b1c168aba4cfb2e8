// The one place that turns a run's inputs (inventory, lock, facts, run state) into what the renderers need, so
// every phase renders a node's files the same way and its plan compares what it observed against exactly what it would write.
import { InternalError, UserError } from '../errors.ts';
import type { RenderedFile } from '../render/file.ts';
import { renderNodeFiles, type NodeFilesInput } from '../render/node-files.ts';
import type { Lock } from '../config/lock.ts';
import type { NodeFacts } from '../facts/node.ts';
import { chooseEncapsulation, firewallEncapsulation } from './encapsulation.ts';
import type { PhaseContext } from './phase.ts';

import { LOCAL_REGISTRY } from '../registry/local-name.ts';

export { LOCAL_REGISTRY };

/** The lock, or a UserError saying where to get one. */
export function requireLock(ctx: PhaseContext): Lock {
  if (!ctx.lock) throw new UserError('this phase needs the lock file', { hint: 'pass --lock FILE or a bundle that holds ferry.lock.yaml' });
  return ctx.lock;
}

/** VRRP router id from the cluster name: stable across runs, spread over 1-255. */
export function virtualRouterId(clusterName: string): number {
  let h = 0;
  for (const c of clusterName) h = (h * 31 + c.charCodeAt(0)) % 255;
  return h + 1;
}

/** Every file renderNodeFiles makes for this node. */
export function nodeFiles(ctx: PhaseContext, host: string, facts: NodeFacts): RenderedFile[] {
  const input: NodeFilesInput = {
    inventory: ctx.inventory,
    lock: requireLock(ctx),
    host,
    registry: { ...LOCAL_REGISTRY, caPem: '' },
    encapsulation: firewallEncapsulation(chooseEncapsulation(ctx.inventory, ctx.state.doctorRecommendation)),
    ...(facts.adminAddress ? { adminAddress: facts.adminAddress } : {}),
  };
  if (ctx.inventory.network.loadBalancer === 'vip') {
    const pass = ctx.state.vrrpPassword;
    if (pass === undefined) throw new InternalError('the VRRP password is not in the run state');
    if (!facts.interface) throw new UserError(`${host}: no interface carries its inventory address, so the VIP has nowhere to go`);
    input.vrrp = { interface: facts.interface, virtualRouterId: virtualRouterId(ctx.inventory.name), authPass: pass };
  }
  return renderNodeFiles(input);
}

/** The rendered files whose paths match `wanted`. */
export function pickFiles(files: readonly RenderedFile[], wanted: (path: string) => boolean): RenderedFile[] {
  return files.filter((f) => wanted(f.path));
}
