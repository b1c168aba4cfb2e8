// Schema of a bundle spec (bundles/*.yaml): where every upstream is (package repos, registries, file and manifest
// URLs), what to add beyond the lock, and how a site points each upstream at its own mirror.
// Values may use {placeholders} filled from the lock: see TEMPLATE_VARIABLES in src/bundle/plan.ts.
import { z } from 'zod';
import { bundleSpecIssues } from './bundle-spec-rules.ts';
import { ImageRef } from './image-ref.ts';

const templ = z.string().min(1);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

/** Include the entry only when each named lock value matches (`*`: the lock has one at all), e.g. `{ cniName: calico }`. */
const when = z.record(z.string(), z.string()).optional();

export const ElRepo = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a dnf repo id'),
    /** May use {releasever} (EL: the lock's minor, e.g. 9.4), {osMajor} and {basearch}. */
    baseurl: templ,
    /** Where this repo keeps minors that are no longer current (e.g. https://dl.rockylinux.org/vault/rocky/{releasever}/...);
     * used instead of `baseurl` when the matrix knows a newer minor of the lock's major. */
    vault: templ.optional(),
    gpgkey: templ.optional(),
    /** Use the repo only for locks that match (NVIDIA's only with a GPU driver, so a CPU bundle never contacts them). */
    when,
  })
  .strict();

export const DebSource = z
  .object({
    uri: templ,
    /** A suite, or a path ending in `/` for a flat repository (pkgs.k8s.io, NVIDIA's), which takes no components. */
    suite: z.string().min(1),
    components: z.array(z.string().min(1)).default([]),
    /** The key the repository is signed with: a keyring path on the build host, or an http(s) URL (fetched through
     * the mirrors, as the repository's own instructions fetch it). */
    signedBy: templ.optional(),
    when,
  })
  .strict()
  .refine((s) => s.suite.endsWith('/') || s.components.length > 0, { message: 'a suite needs components (a flat repository\'s suite ends in /)' });

/** An OS package: a name template (`containerd.io={cri}*`, `kubeadm-{kubernetes}`), or one with a `when`. */
export const PackageEntry = z.union([templ, z.object({ name: templ, when }).strict()]);
export type PackageEntry = z.infer<typeof PackageEntry>;

export const OsRelease = z
  .object({
    /** EL: dnf repositories, by repo id. */
    repos: z.array(ElRepo).optional(),
    /** Debian/Ubuntu: apt sources. */
    sources: z.array(DebSource).optional(),
    /** Package names (templates, e.g. `containerd.io-{cri}`) this release needs beyond the GPU build packages. */
    packages: z.array(PackageEntry).default([]),
  })
  .strict()
  .refine((r) => (r.repos?.length ?? 0) > 0 || (r.sources?.length ?? 0) > 0, { message: 'needs repos (EL) or sources (Debian/Ubuntu)' });
export type OsRelease = z.infer<typeof OsRelease>;

export const FileSource = z
  .object({
    when,
    component: z.string().regex(/^[a-z0-9._-]+$/),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name'),
    /** Version template, e.g. `{kubernetes}` or a literal `1.33.0`. */
    version: templ,
    url: templ,
    /** Exactly one of: a literal sha256, or a URL (template; `{url}` is this file's URL) whose first word is it. */
    sha256: sha256.optional(),
    sha256Url: templ.optional(),
    mode: z.number().int().min(0).max(0o7777).optional(),
    /** The URL is a .tar.gz release archive: carry only this member of it (e.g. `registry`) as the file. The
     * checksum is the archive's, as the project publishes it; the member's own is recorded in the manifest. */
    extract: z.string().regex(/^[A-Za-z0-9._/-]+$/, 'must be a path inside the archive').refine((p) => !p.split('/').includes('..'), 'must not contain ..').optional(),
  })
  .strict()
  .refine((f) => (f.sha256 === undefined) !== (f.sha256Url === undefined), { message: 'give exactly one of sha256 or sha256Url' });
export type FileSource = z.infer<typeof FileSource>;

export const ManifestSource = z
  .object({
    when,
    component: z.string().regex(/^[a-z0-9._-]+$/),
    name: z.string().regex(/^[A-Za-z0-9._-]+\.ya?ml$/, 'must be a plain .yaml file name'),
    version: templ,
    url: templ,
    sha256: sha256.optional(),
  })
  .strict();
export type ManifestSource = z.infer<typeof ManifestSource>;

export const RegistryCredential = z
  .object({
    registry: z.string().min(1),
    usernameEnv: envName.optional(),
    username: z.string().optional(),
    /** Never the password itself: the name of the variable or file that holds it. */
    passwordEnv: envName.optional(),
    passwordFile: z.string().optional(),
  })
  .strict()
  .refine((c) => (c.passwordEnv === undefined) !== (c.passwordFile === undefined), { message: 'give exactly one of passwordEnv or passwordFile' })
  .refine((c) => (c.username === undefined) !== (c.usernameEnv === undefined), { message: 'give exactly one of username or usernameEnv' });
export type RegistryCredential = z.infer<typeof RegistryCredential>;

/** A kernel release as `uname -r` prints it, e.g. 5.14.0-427.13.1.el9_4.x86_64. */
export const KernelRelease = z.string().regex(/^[0-9][A-Za-z0-9._+~-]*$/, 'must be a kernel release as `uname -r` prints it');

export const BundleSpec = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('BundleSpec'),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and -'),
    /** OS package sources: family → release (major version, e.g. "9" or "12") → repos/sources and packages. */
    os: z
      .object({ el: z.record(z.string(), OsRelease).optional(), debian: z.record(z.string(), OsRelease).optional() })
      .strict()
      .default({}),
    /** `full`: the dependency closure against an empty root; `{ installed: [...] }`: minus what the nodes already have
     * (package names or `rpm -qa` NEVRA lines). */
    closure: z.union([z.literal('full'), z.object({ installed: z.array(z.string().min(1)) }).strict()]).default('full'),
    images: z
      .object({ extra: z.array(z.object({ ref: ImageRef, critical: z.boolean().default(false) }).strict()).default([]) })
      .strict()
      .default({ extra: [] }),
    registries: z
      .object({
        /** Upstream registry host → mirror base URL, e.g. `registry.k8s.io: https://mirror.site:5000/k8s`. */
        mirrors: z.record(z.string(), z.url({ protocol: /^https?$/ }).refine((u) => !/\/\/[^/]*@/.test(u), 'must not carry credentials')).default({}),
        /** Keyed by the host contacted (the mirror's host:port when mirrored). */
        credentials: z.array(RegistryCredential).default([]),
        insecure: z.array(z.string()).default([]),
      })
      .strict()
      .default({ mirrors: {}, credentials: [], insecure: [] }),
    files: z.array(FileSource).default([]),
    /**
     * The exact kernels of the GPU nodes (`uname -r`, as `ferry doctor` reports them): the driver build needs the
     * kernel-devel / linux-headers of each. Without them the lock's kernel series is used, which may name no package.
     */
    kernels: z.array(KernelRelease).default([]),
    /** Also carry NVIDIA's .run installer of the locked driver (files/nvidia-driver/...), besides its OS packages. */
    nvidiaDriverInstaller: z.boolean().default(false),
    manifests: z.array(ManifestSource).default([]),
    /** URL prefix → replacement, applied to every repo, source, file and manifest URL (longest prefix wins). */
    mirrors: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    for (const issue of bundleSpecIssues(spec)) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  });
export type BundleSpec = z.infer<typeof BundleSpec>;

/**
 * `ferry bundle build --mirrors FILE`: a site's mirrors kept apart from the spec, so one shipped spec serves every
 * site unchanged. The same two sections as the spec; its entries win over the spec's.
 */
export const MirrorsFile = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('Mirrors'),
    mirrors: BundleSpec.shape.mirrors,
    registries: BundleSpec.shape.registries,
  })
  .strict();
export type MirrorsFile = z.infer<typeof MirrorsFile>;

/** The spec with a mirrors file laid over it. */
export function withMirrors(spec: BundleSpec, file: MirrorsFile): BundleSpec {
  return {
    ...spec,
    mirrors: { ...spec.mirrors, ...file.mirrors },
    registries: {
      mirrors: { ...spec.registries.mirrors, ...file.registries.mirrors },
      credentials: [...file.registries.credentials, ...spec.registries.credentials.filter((c) => !file.registries.credentials.some((f) => f.registry === c.registry))],
      insecure: [...new Set([...spec.registries.insecure, ...file.registries.insecure])],
    },
  };
}
