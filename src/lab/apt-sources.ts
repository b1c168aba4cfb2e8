// The Debian mirror for the lab's debootstrap, taken from the machine's own apt sources (read by the product's
// parser), so the lab never hard-codes a mirror address.
import type { DebSource } from '../bundle/sources/deb-plan.ts';

/** The first `deb` source that serves `suite` with `main`, without a trailing slash. */
export function pickDebianMirror(sources: readonly DebSource[], suite: string): string | undefined {
  return sources.find((s) => s.suite === suite && s.components.includes('main'))?.uri.replace(/\/+$/, '');
}
