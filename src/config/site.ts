// Schema of the site file (`ferry doctor --site-out site.json`, read by `ferry bundle build --site`): what the
// internet side must know of the air-gapped site's real hosts to build a bundle for them, and nothing else. Per node:
// name, roles, OS id and version (EL with its minor), arch, running kernel, NVIDIA GPUs found, and the installed
// package set (by reference: nodes installed from one image share one set). No address, key, user, path, token or
// finding ever goes into it (src/doctor/site-file.ts builds it field by field).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { KernelRelease } from './bundle-spec.ts';
import { hostname, Role } from './inventory.ts';
import { INPUT_LIMITS, type YamlLimits } from './parse.ts';
import { PACKAGE_ARCH, PACKAGE_NAME, PACKAGE_VERSION } from '../facts/parse-packages.ts';

export const SITE_API_VERSION = 'ferry.dev/v1alpha1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');

export const SitePackage = z
  .object({
    name: z.string().regex(PACKAGE_NAME, 'must be a package name'),
    /** dpkg's version, or rpm's `[epoch:]version-release`. */
    version: z.string().regex(PACKAGE_VERSION, 'must be a package version'),
    arch: z.string().regex(PACKAGE_ARCH, 'must be a package architecture'),
  })
  .strict();
export type SitePackage = z.infer<typeof SitePackage>;

export const PackageSet = z.object({ manager: z.enum(['dpkg', 'rpm']), packages: z.array(SitePackage) }).strict();
export type PackageSet = z.infer<typeof PackageSet>;

export const SiteNode = z
  .object({
    name: hostname,
    roles: z.array(Role).min(1),
    /** From /etc/os-release: ID, VERSION_ID (EL: 9.4, with the minor; Debian: 12) and ferry's family. */
    os: z
      .object({
        id: z.string().regex(/^[a-z][a-z0-9._-]*$/, 'must be an os-release ID such as rocky'),
        /** Empty where os-release has none (a rolling distribution: the bundle build then refuses the node). */
        versionId: z.string().regex(/^[A-Za-z0-9._~-]*$/, 'must be an os-release VERSION_ID such as 9.4'),
        family: z.enum(['el', 'debian', 'other']),
      })
      .strict(),
    /** `uname -m`, e.g. x86_64. */
    arch: z.string().regex(/^[a-z0-9_]+$/, 'must be a machine name as uname -m prints it'),
    /** `uname -r`: the running kernel. */
    kernel: KernelRelease,
    /** NVIDIA display controllers on the PCI bus. */
    gpus: z.number().int().nonnegative(),
    /** Key (sha256) of the node's installed package set in `packageSets`; absent when the node has neither dpkg nor rpm. */
    packages: sha256Hex.optional(),
  })
  .strict();
export type SiteNode = z.infer<typeof SiteNode>;

export const SiteFile = z
  .object({
    apiVersion: z.literal(SITE_API_VERSION),
    kind: z.literal('Site'),
    cluster: hostname.nullable(),
    /** When doctor read the nodes (ISO 8601). */
    generatedAt: z.iso.datetime(),
    nodes: z.array(SiteNode).min(1),
    /** Inventory hosts doctor could not read: the file says nothing about them. */
    unreachable: z.array(hostname).default([]),
    /** sha256 of a set's canonical text (packageSetSha256) → the set. */
    packageSets: z.record(sha256Hex, PackageSet).default({}),
  })
  .strict()
  .superRefine((site, ctx) => {
    const seen = new Set<string>();
    site.nodes.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `${n.name} is listed twice` });
      seen.add(n.name);
      if (n.packages !== undefined && !(n.packages in site.packageSets))
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'packages'], message: `no package set ${n.packages} in packageSets` });
    });
    for (const [key, set] of Object.entries(site.packageSets))
      if (packageSetSha256(set) !== key)
        ctx.addIssue({ code: 'custom', path: ['packageSets', key], message: 'the set does not hash to its key (edited by hand?): write the file again with ferry doctor --site-out' });
  });
export type SiteFile = z.infer<typeof SiteFile>;

/** A site file is written by ferry, not a person: a large site's package sets may exceed a hand-written input's size. */
export const SITE_FILE_LIMITS: YamlLimits = { ...INPUT_LIMITS, maxBytes: 64 << 20 };

/** One line per package, `name version arch`, sorted: the canonical text a set is hashed over and shown as. */
export function packageLines(packages: readonly SitePackage[]): string[] {
  return packages.map((p) => `${p.name} ${p.version} ${p.arch}`).sort();
}

/** The key of a package set: sha256 of its manager and canonical lines. */
export function packageSetSha256(set: PackageSet): string {
  return createHash('sha256').update(`${set.manager}\n${packageLines(set.packages).join('\n')}\n`).digest('hex');
}
