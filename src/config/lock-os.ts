// The OS releases a lock was resolved for (one, or several for a mixed cluster: `stack.os` and `stack.alsoOs`), and
// the lock as one of them sees it. Pure.
import type { Lock, Stack } from './lock.ts';

/** One OS release of a lock, with the kernel series and cgroup the stack has on it. */
export interface LockOs {
  os: Stack['os'];
  kernel: string;
  cgroup: Stack['cgroup'];
}

/** Every OS release of the stack, `stack.os` first. */
export function lockOses(stack: Pick<Stack, 'os' | 'kernel' | 'cgroup' | 'alsoOs'>): LockOs[] {
  return [{ os: stack.os, kernel: stack.kernel, cgroup: stack.cgroup }, ...(stack.alsoOs ?? [])];
}

/** `rocky-9.4`, as `ferry resolve --os` takes it. */
export function osName(os: Pick<Stack['os'], 'id' | 'version'>): string {
  return `${os.id}-${os.version}`;
}

/** The stack as it is on one of its OS releases: that OS, its kernel and cgroup, no `alsoOs`. */
export function stackOn<S extends Pick<Stack, 'os' | 'kernel' | 'cgroup' | 'alsoOs'>>(stack: S, target: LockOs): Omit<S, 'alsoOs'> {
  const { alsoOs: _, ...rest } = stack;
  return { ...rest, os: target.os, kernel: target.kernel, cgroup: target.cgroup };
}

/** The lock as one of its OS releases sees it (what a one-OS lock for that release would say of the stack). */
export function lockOn(lock: Lock, target: LockOs): Lock {
  return { ...lock, stack: stackOn(lock.stack, target) };
}

/**
 * The OS release of the lock a node runs on, from its os-release ID and VERSION_ID: the same ID and release (EL: the
 * same minor) first, else the same ID and major; undefined when the lock has none for it.
 */
export function lockOsFor(stack: Pick<Stack, 'os' | 'kernel' | 'cgroup' | 'alsoOs'>, node: { id: string; versionId: string }): LockOs | undefined {
  const all = lockOses(stack);
  const major = (v: string) => v.split('.')[0];
  return all.find((o) => o.os.id === node.id && o.os.version === node.versionId) ?? all.find((o) => o.os.id === node.id && major(o.os.version) === major(node.versionId));
}
