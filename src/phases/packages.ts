// Installing packages from the bundle's repository, and remembering exactly which packages an install added
// (dependencies included) so reset removes those and nothing the node had before.
import type { Host } from '../hosts/host.ts';
import { installedListPath, type FamilyCommand, type OsFamily } from './os/family.ts';
import { parseInstalled } from './os/pick.ts';
import type { Step } from './step.ts';

/** Installed package names on the node (read-only). */
export async function installedPackages(host: Host, family: OsFamily): Promise<Set<string>> {
  return parseInstalled((await host.exec(family.listInstalled(), { readOnly: true })).stdout);
}

/** Those of `wanted` that are not installed. */
export async function missingPackages(host: Host, family: OsFamily, wanted: readonly string[]): Promise<string[]> {
  const have = await installedPackages(host, family);
  return wanted.filter((p) => !have.has(p));
}

function run(host: Host, c: FamilyCommand) {
  return host.exec(c.argv, c.env ? { env: c.env } : {});
}

/** Names in a package list file written by recordInstalled (one a line). */
export function parseList(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Install `packages` offline and add every package that appeared to the phase's list on the node. */
export async function installPackages(host: Host, family: OsFamily, packages: readonly string[], phase: string): Promise<string[]> {
  const before = await installedPackages(host, family);
  await run(host, family.refresh());
  await run(host, family.install(packages));
  const after = await installedPackages(host, family);
  const added = [...after].filter((p) => !before.has(p));
  const listPath = installedListPath(phase);
  const old = await host.exec(['cat', listPath], { readOnly: true, allowFailure: true });
  const all = [...new Set([...parseList(old.exitCode === 0 ? old.stdout : ''), ...added])].sort();
  await host.writeFile(listPath, `${all.join('\n')}\n`);
  return added;
}

/** Remove the packages a phase recorded, then its list (reset). */
export async function removeRecordedPackages(host: Host, family: OsFamily, phase: string): Promise<void> {
  const listPath = installedListPath(phase);
  const r = await host.exec(['cat', listPath], { readOnly: true, allowFailure: true });
  if (r.exitCode !== 0) return;
  const have = await installedPackages(host, family);
  const names = parseList(r.stdout).filter((p) => have.has(p));
  if (names.length > 0) await run(host, family.remove(names));
  await host.exec(['rm', '-f', listPath]);
}

/** The step that installs `packages` from the bundle's repository and records what appeared, for reset. */
export function installStep(family: OsFamily, packages: readonly string[], phase: string): Step {
  return { kind: 'packages', phase, refresh: family.refresh(), install: family.install(packages), listInstalled: family.listInstalled() };
}
