import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Lock } from '../../src/config/lock.ts';
import { renderSummary, summarize } from '../../src/bundle/inspect.ts';
import { BundleManifest, renderManifest, parseManifest } from '../../src/bundle/manifest.ts';
import { siteBuild } from '../../src/bundle/site-build.ts';
import { KERNEL_94, siteOf } from '../fixtures/site/rocky94-nodes.ts';

const rocky = (parse(readFileSync(new URL('fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8')) as Lock).stack;

describe('the site record in the manifest', () => {
  const record = siteBuild(rocky, siteOf([{ name: 'cp-1', roles: ['control-plane'] }, { name: 'gpu-1', roles: ['gpu'], gpus: 8 }]), { file: 'site.json', kernels: [], closure: 'installed' }).record;
  const manifest: BundleManifest = { apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'gpu-cluster', createdAt: '2026-12-07T05:00:00Z', platform: 'linux/amd64', site: record, documents: [], artifacts: [] };

  it('is signed with the rest: rendered into manifest.yaml and read back unchanged', () => {
    expect(parseManifest(renderManifest(manifest), 'manifest.yaml').site).toEqual(record);
  });

  it('shows in `ferry bundle inspect`: nodes, OS minor, GPU kernels, the installed set by count and hash', () => {
    const s = summarize(manifest);
    expect(s.site).toEqual({ cluster: 'gpu-prod', generatedAt: '2026-12-07T05:00:00.000Z', nodes: ['cp-1', 'gpu-1'], osVersions: ['9.4'], kernels: [KERNEL_94], closure: 'installed', installed: { count: 5, sha256: record.installed!.sha256 } });
    expect(renderSummary(s)).toContain(`built for site gpu-prod read 2026-12-07T05:00:00.000Z: cp-1, gpu-1 on 9.4; without the 5 packages every node had (sha256 ${record.installed!.sha256.slice(0, 12)}); NVIDIA driver for ${KERNEL_94}`);
  });
});
