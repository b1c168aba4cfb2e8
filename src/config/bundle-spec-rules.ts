// What a bundle spec must mean beyond its shape: placeholders the lock can fill, URLs that are URLs once filled, no
// two entries writing the same bundle path. Pure; run by the spec schema's superRefine so issues carry line and column.
import type { PathIssue } from './parse.ts';

/** The {placeholders} every template may use (src/bundle/plan.ts templateVariables fills them from the lock). */
export const LOCK_PLACEHOLDERS = [
  'kubernetes', 'kubernetesMinor', 'cri', 'criName', 'runc', 'cni', 'cniName', 'kernel', 'nvidiaDriver',
  'nvidiaDriverBranch', 'arch', 'basearch', 'releasever', 'osMajor', 'osId', 'osVersion',
] as const;

const known = (name: string, extra: readonly string[]) => (LOCK_PLACEHOLDERS as readonly string[]).includes(name) || extra.includes(name) || /^imageTag\.[a-z0-9._-]+$/.test(name);

/** Issues for unknown {placeholders} in `template`, and for a URL that does not parse once they are filled in. */
export function templateIssues(template: string, path: readonly PropertyKey[], options: { extra?: readonly string[]; url?: boolean } = {}): PathIssue[] {
  const issues: PathIssue[] = [];
  const extra = options.extra ?? [];
  for (const m of template.matchAll(/\{([^{}]*)\}/g))
    if (!known(m[1]!, extra))
      issues.push({ path, message: `unknown placeholder {${m[1]}} (known: ${[...LOCK_PLACEHOLDERS, ...extra].map((k) => `{${k}}`).join(' ')} {imageTag.<name>})` });
  if (options.url && issues.length === 0) {
    const filled = template.replaceAll('{url}', 'https://host/file').replace(/\{[^{}]*\}/g, 'x');
    let url: URL | undefined;
    try {
      url = new URL(filled);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:', 'file:'].includes(url.protocol)) issues.push({ path, message: `${template}: not an http, https or file URL` });
  }
  return issues;
}

interface SpecFacts {
  os: { el?: Record<string, { repos?: { baseurl: string; gpgkey?: string | undefined }[] | undefined; sources?: { uri: string; signedBy?: string | undefined }[] | undefined }> | undefined; debian?: Record<string, unknown> | undefined };
  files: readonly { component: string; version: string; name: string; url: string; sha256Url?: string | undefined; when?: Record<string, string> | undefined }[];
  manifests: readonly { component: string; version: string; name: string; url: string; when?: Record<string, string> | undefined }[];
  mirrors: Record<string, string>;
}

function whenIssues(when: Record<string, string> | undefined, path: readonly PropertyKey[]): PathIssue[] {
  return Object.keys(when ?? {})
    .filter((k) => !known(k, []))
    .map((k) => ({ path: [...path, 'when', k], message: `unknown lock value ${k} (known: ${LOCK_PLACEHOLDERS.join(' ')} imageTag.<name>)` }));
}

/** Every rule of meaning over a spec whose shape is valid. */
export function bundleSpecIssues(spec: SpecFacts): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [family, releases] of Object.entries(spec.os))
    for (const [release, r] of Object.entries(releases ?? {})) {
      if (!/^\d+(\.\d+)?$/.test(release)) issues.push({ path: ['os', family, release], message: `"${release}" is not an OS release such as 9 or 22.04` });
      const rel = r as { repos?: { baseurl: string; gpgkey?: string }[]; sources?: { uri: string; signedBy?: string }[] };
      rel.repos?.forEach((repo, i) => {
        issues.push(...templateIssues(repo.baseurl, ['os', family, release, 'repos', i, 'baseurl'], { url: true }));
        if (repo.gpgkey) issues.push(...templateIssues(repo.gpgkey, ['os', family, release, 'repos', i, 'gpgkey'], { url: true }));
      });
      rel.sources?.forEach((s, i) => issues.push(...templateIssues(s.uri, ['os', family, release, 'sources', i, 'uri'], { url: true })));
    }
  const paths = new Map<string, string>();
  const entries = [...spec.files.map((f, i) => ['files', i, f] as const), ...spec.manifests.map((m, i) => ['manifests', i, m] as const)];
  for (const [list, i, e] of entries) {
    const at = [list, i] as const;
    issues.push(...templateIssues(e.url, [...at, 'url'], { extra: ['version'], url: true }), ...templateIssues(e.version, [...at, 'version']), ...whenIssues(e.when, at));
    if ('sha256Url' in e && e.sha256Url) issues.push(...templateIssues(e.sha256Url, [...at, 'sha256Url'], { extra: ['version', 'url'], url: true }));
    const key = `${list}/${e.component}/${e.version}/${e.name}`;
    const first = paths.get(key);
    if (first) issues.push({ path: [...at, 'name'], message: `writes the same bundle path as ${first} (${key})` });
    else paths.set(key, `${list}[${i}]`);
  }
  for (const [prefix, target] of Object.entries(spec.mirrors))
    for (const [text, what] of [[prefix, 'prefix'], [target, 'replacement']] as const)
      if (templateIssues(text, ['mirrors', prefix], { url: true }).length > 0) issues.push({ path: ['mirrors', prefix], message: `${what} ${text}: not an http, https or file URL` });
  return issues;
}
