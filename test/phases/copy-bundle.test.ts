// copy-bundle against a fake host: only what sha256sum -c reports missing or different is uploaded (images stay
// on the admin host), everything copied is checked again on the node, and the bytes are counted.
import { describe, expect, it } from 'vitest';
import { copyBundlePhase, copyStats } from '../../src/phases/copy-bundle.ts';
import { CopyParams } from '../../src/phases/seed-copy.ts';
import { checksumList, failedChecks, nodeBundleFiles } from '../../src/phases/bundle-on-node.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from './phase-context.ts';

const CHECK = 'cd /var/lib/ferry/bundle 2>/dev/null && sha256sum -c --quiet -';
const DIRECT = CopyParams.parse({});

describe('copy-bundle', () => {
  it('reads sha256sum -c failures, missing files included (GNU coreutils 9.1 output)', () => {
    const out = 'packages/debian-12/amd64/Packages: FAILED\nfiles/kubernetes/1.33.4/kubeadm: FAILED open or read\n';
    expect([...failedChecks(out)]).toEqual(['packages/debian-12/amd64/Packages', 'files/kubernetes/1.33.4/kubeadm']);
  });

  it('uploads only the files the node lacks, checks them again, and counts the bytes', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'], plainBundle: true });
    const host = new FakeHost('cp-1', [
      { command: CHECK, exitCode: 1, stdout: 'packages/debian-12/amd64/Packages: FAILED\nfiles/kubernetes/1.33.4/kubeadm: FAILED open or read\n', stderr: 'sha256sum: WARNING: 1 computed checksum did NOT match', readOnly: true, times: 2 },
      { command: 'mkdir -p -- /var/lib/ferry/bundle/files/kubernetes/1.33.4 /var/lib/ferry/bundle/packages/debian-12/amd64' },
      { command: CHECK, exitCode: 0, readOnly: false },
    ]);
    const target = { spec: ctx.inventory.hosts[0]!, host };
    expect(await copyBundlePhase.isDone(target, ctx, DIRECT)).toBe(false);
    await copyBundlePhase.run(target, ctx, DIRECT);
    expect([...host.uploaded].sort()).toEqual([
      ['/var/lib/ferry/bundle/files/kubernetes/1.33.4/kubeadm', '/bundle/files/kubernetes/1.33.4/kubeadm'],
      ['/var/lib/ferry/bundle/packages/debian-12/amd64/Packages', '/bundle/packages/debian-12/amd64/Packages'],
    ]);
    expect(host.calls.at(-1)?.stdin).toBe(checksumList(nodeBundleFiles(ctx.state.bundleManifest as never, ctx.lock!.stack.os).filter((f) => !f.path.endsWith('.deb'))));
    expect(copyStats(ctx).get('cp-1')).toMatchObject({ files: 2, bytes: 30 });
    expect(host.unmet()).toEqual([]);
  });

  it('is done when every file checks out, and never carries images to every node', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'], plainBundle: true });
    const host = new FakeHost('cp-1', [{ command: CHECK, exitCode: 0, readOnly: true }]);
    expect(await copyBundlePhase.isDone({ spec: ctx.inventory.hosts[0]!, host }, ctx, DIRECT)).toBe(true);
    expect(host.calls[0]!.stdin).not.toContain('images/');
    expect(host.calls[0]!.stdin).toContain('containerd_1.6.20');
  });
});
