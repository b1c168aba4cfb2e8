// The lock as one node sees it: a lock for several OS releases (a mixed cluster, `stack.alsoOs`) serves each node
// with the release it runs (its os-release, from the node's facts), so its repository, driver and kernel are that
// OS's. A one-OS lock is itself.
import type { Lock } from '../config/lock.ts';
import { lockOn, lockOses, lockOsFor, osName } from '../config/lock-os.ts';
import { UserError } from '../errors.ts';
import { nodeFacts } from './node-facts.ts';
import type { PhaseContext, PhaseTarget } from './phase.ts';
import { requireLock } from './render-inputs.ts';

/** The lock's view for the OS release `target` runs; refused when the lock has none for it (preflight says so first). */
export async function nodeLock(target: Pick<PhaseTarget, 'spec' | 'host'>, ctx: PhaseContext): Promise<Lock> {
  const lock = requireLock(ctx);
  if (!lock.stack.alsoOs?.length) return lock;
  const facts = await nodeFacts(target, ctx.state);
  const os = lockOsFor(lock.stack, facts.os);
  if (!os)
    throw new UserError(`${target.spec.name} runs ${facts.os.id} ${facts.os.versionId}; the lock is for ${lockOses(lock.stack).map((o) => osName(o.os)).join(', ')}`, {
      hint: `ferry resolve ${[...lockOses(lock.stack).map((o) => osName(o.os)), `${facts.os.id}-${facts.os.versionId}`].map((o) => `--os ${o}`).join(' ')} ..., then build the bundle again`,
    });
  return lockOn(lock, os);
}
