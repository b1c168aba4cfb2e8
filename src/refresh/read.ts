// Read the refresh sources over HTTP(S) (through --mirror / --source-base), parse them into observations, and say
// which could not be read. The only refresh code with network side effects.
import type { Observations } from './diff.ts';
import { advisories, kubernetesReleases, nvidiaVersions, tagVersions, ubuntuReleases } from './parse.ts';
import { mappedUrl, refsUrl, sourceUrls, type RefreshSource } from './sources.ts';

export interface ReadOptions {
  base?: string | undefined;
  mirrors?: [string, string][];
  timeoutMs: number;
}

export interface SourceFailure {
  source: string;
  url: string;
  error: string;
}

export type FetchText = (url: string) => Promise<string>;

/** GET a URL as text, failing on a non-2xx status or after the timeout. */
export function httpFetcher(timeoutMs: number): FetchText {
  return async (url) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'ferry-matrix-refresh' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  };
}

/** Read every source; a source that fails is listed and left out of the observations. */
export async function readSources(sources: readonly RefreshSource[], opts: ReadOptions, get: FetchText = httpFetcher(opts.timeoutMs)): Promise<{ observations: Observations; failures: SourceFailure[] }> {
  const observations: Observations = {};
  const failures: SourceFailure[] = [];
  const fetchOne = (url: string) => get(mappedUrl(url, opts));
  await Promise.all(
    sources.map(async (s) => {
      try {
        switch (s.kind) {
          case 'k8s-schedule': {
            const [schedule, eol] = await Promise.all([fetchOne(s.schedule), fetchOne(s.eol)]);
            observations.kubernetes = { releases: kubernetesReleases(schedule, eol), source: blobUrl(s.schedule), eolSource: blobUrl(s.eol) };
            break;
          }
          case 'git-tags':
            (observations.tags ??= {})[s.id] = { versions: tagVersions(await fetchOne(refsUrl(s.repo))), repo: s.repo };
            break;
          case 'gh-advisories':
            observations.runcAdvisories = { advisories: advisories(await fetchOne(s.url)), repo: s.repo };
            break;
          case 'nvidia-redist':
            observations.nvidia = { versions: nvidiaVersions(await fetchOne(s.index)), index: s.index };
            break;
          case 'ubuntu-meta-release':
            observations.ubuntu = { releases: ubuntuReleases(await fetchOne(s.url)), source: s.url };
            break;
        }
      } catch (error) {
        const url = mappedUrl(sourceUrls(s)[0]!, opts);
        failures.push({ source: s.id, url, error: error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error) });
      }
    }),
  );
  return { observations, failures };
}

/** The github.com page of a raw.githubusercontent.com file (what a person opens to check the fact). */
export function blobUrl(raw: string): string {
  const m = /^https:\/\/raw\.githubusercontent\.com\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/.exec(raw);
  return m ? `https://github.com/${m[1]}/${m[2]}/blob/${m[3]}/${m[4]}` : raw;
}
