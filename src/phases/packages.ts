// Installing packages from the bundle's repository, and remembering exactly which packages an install added
// (dependencies included) so reset removes those and nothing the node had before.
import type { Host } from '../hosts/host.ts';
import type { OsFamily } from './os/family.ts';
import { parseInstalled } from './os/pick.ts';
import type { Step } from './step.ts';

/** Installed package names on the node (read-only). */
export async function installedPackages(host: Host, family: OsFamily): Promise<Set<string>> {
  return parseInstalled((await host.exec(family.listInstalled())).stdout);
}

/** Those of `wanted` that are not installed. */
export async function missingPackages(host: Host, family: OsFamily, wanted: readonly string[]): Promise<string[]> {
  const have = await installedPackages(host, family);
  return wanted.filter((p) => !have.has(p));
}

/** Names in a package list file written by the packages step (apply.ts) (one a line). */
export function parseList(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The step that installs `packages` from the bundle's repository and records what appeared, for reset. */
export function installStep(family: OsFamily, packages: readonly string[], phase: string): Step {
  return { kind: 'packages', phase, refresh: family.refresh(), install: family.install(packages), listInstalled: family.listInstalled() };
}
