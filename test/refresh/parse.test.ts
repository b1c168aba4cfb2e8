import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareDotted, kubernetesReleases, nvidiaVersions, tagVersions, ubuntuReleases } from '../../src/refresh/parse.ts';
import { mappedUrl } from '../../src/refresh/sources.ts';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/refresh/${path}`, import.meta.url), 'utf8');

describe('refresh parsers (recorded responses, test/fixtures/refresh)', () => {
  it('reads stable tags from a ref advertisement, skipping pre-releases and other tag names', () => {
    const v = tagVersions(fixture('github.com/containerd/containerd.git/info/refs'));
    expect(v).toContain('2.3.4');
    expect(v).toContain('1.7.34');
    expect(v.some((x) => x.startsWith('2.4'))).toBe(false); // only v2.4.0-beta.0 so far
    expect(v.some((x) => x.startsWith('1.12'))).toBe(false); // api/v1.12.0-beta.0 is the API module
  });

  it('reads newest patch and end of life per Kubernetes minor from schedule.yaml and eol.yaml', () => {
    const k = kubernetesReleases(fixture('raw.githubusercontent.com/kubernetes/website/main/data/releases/schedule.yaml'), fixture('raw.githubusercontent.com/kubernetes/website/main/data/releases/eol.yaml'));
    expect(k.get('1.37')).toEqual({ latest: '1.37.1', released: '2026-08-26', eol: '2027-10-28', ended: false });
    expect(k.get('1.30')).toMatchObject({ latest: '1.30.14', eol: '2025-07-15', ended: true });
  });

  it('reads driver versions from NVIDIA\'s redistrib index and Ubuntu releases from meta-release', () => {
    expect(nvidiaVersions(fixture('developer.download.nvidia.com/compute/nvidia-driver/redist/index.html'))).toContain('620.70.06');
    expect(ubuntuReleases(fixture('changelogs.ubuntu.com/meta-release')).map((r) => r.version)).toEqual(['22.04', '24.04', '26.04']);
  });

  it('compares driver-style versions numerically', () => {
    expect(compareDotted('580.126.18', '580.95.05')).toBeGreaterThan(0);
  });

  const urls: [string, { base?: string; mirrors?: [string, string][] }, string][] = [
    ['https://github.com/cri-o/cri-o.git/info/refs?service=git-upload-pack', {}, 'https://github.com/cri-o/cri-o.git/info/refs?service=git-upload-pack'],
    ['https://github.com/cri-o/cri-o.git/info/refs?service=git-upload-pack', { base: 'http://127.0.0.1:8080/' }, 'http://127.0.0.1:8080/github.com/cri-o/cri-o.git/info/refs?service=git-upload-pack'],
    ['https://github.com/cri-o/cri-o.git/info/refs', { base: 'http://b', mirrors: [['https://github.com/', 'http://git.local/gh/']] }, 'http://git.local/gh/cri-o/cri-o.git/info/refs'],
  ];
  it.each(urls)('maps %s with %j', (url, opts, want) => {
    expect(mappedUrl(url, opts)).toBe(want);
  });
});
