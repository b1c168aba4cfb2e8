// copy-bundle: its plan from tables of what was seen (nothing, a refusal, a place in the seed stage, or the
// directories and the upload), and one run through the runner against a fake host: only what sha256sum -c reports
// missing or different is uploaded (images stay on the admin host), the round after the copy checks it again, and
// the bytes are counted.
import { describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/errors.ts';
import { copyBundlePhase, copyStats, planCopy, type CopySeen } from '../../src/phases/copy-bundle.ts';
import { CopyParams } from '../../src/phases/seed-copy.ts';
import { checksumList, failedChecks, nodeBundleFiles, type NodeBundleFile } from '../../src/phases/bundle-on-node.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { newRunState } from '../../src/phases/run-state.ts';
import { describeStep } from '../../src/phases/step.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from './phase-context.ts';

const CHECK = 'cd /var/lib/ferry/bundle 2>/dev/null && sha256sum -c --quiet -';
const DIRECT = CopyParams.parse({});
const file = (path: string, size: number): NodeBundleFile => ({ path, size, sha256: 'a'.repeat(64) });
const PACKAGES = file('packages/debian-12/amd64/Packages', 10);
const KUBEADM = file('files/kubernetes/1.33.4/kubeadm', 20);
const input = () => ({ bundleDir: '/bundle', state: newRunState(), now: () => new Date('2026-11-23T12:00:00Z') });

describe('copy-bundle plan', () => {
  it.each<{ name: string; seen: CopySeen; steps: string[] }>([
    { name: 'every file checks out: nothing', seen: { node: 'cp-1', missing: [], copied: false }, steps: [] },
    { name: 'after a copy that arrived intact: nothing', seen: { node: 'cp-1', missing: [], copied: true }, steps: [] },
    {
      name: 'files missing: their directories, then one upload of them all',
      seen: { node: 'cp-1', missing: [PACKAGES, KUBEADM], copied: false },
      steps: [
        'mkdir -p -- /var/lib/ferry/bundle/files/kubernetes/1.33.4 /var/lib/ferry/bundle/packages/debian-12/amd64',
        'upload 2 file(s), 30 bytes from the bundle to /var/lib/ferry/bundle (4 at once)',
      ],
    },
    {
      name: 'seed mode, another node: it waits for the seed stage',
      seen: { node: 'w-1', missing: [KUBEADM], copied: false, seed: { name: 'cp-1', waiting: false } },
      steps: ["fetch 1 file(s), 20 bytes from the seed cp-1 once every node's run is over"],
    },
    { name: 'seed mode, a node already waiting: nothing more', seen: { node: 'w-1', missing: [KUBEADM], copied: false, seed: { name: 'cp-1', waiting: true } }, steps: [] },
    { name: 'seed mode, a node that lacks nothing: nothing', seen: { node: 'w-1', missing: [], copied: false, seed: { name: 'cp-1', waiting: false } }, steps: [] },
  ])('$name', ({ seen, steps }) => {
    expect(planCopy(seen, input()).map(describeStep)).toEqual(steps);
  });

  it('refuses a node whose copy of this run did not arrive intact, naming each file', () => {
    const error = (() => {
      try {
        return planCopy({ node: 'cp-1', missing: [KUBEADM], copied: true }, input());
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).problems).toEqual(['cp-1: files/kubernetes/1.33.4/kubeadm differs from the manifest after copying']);
  });

  it('reads sha256sum -c failures, missing files included (GNU coreutils 9.1 output)', () => {
    const out = 'packages/debian-12/amd64/Packages: FAILED\nfiles/kubernetes/1.33.4/kubeadm: FAILED open or read\n';
    expect([...failedChecks(out)]).toEqual(['packages/debian-12/amd64/Packages', 'files/kubernetes/1.33.4/kubeadm']);
  });
});

describe('copy-bundle through the runner', () => {
  it('uploads only the files the node lacks, checks them again, and counts the bytes', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'], plainBundle: true });
    const host = new FakeHost('cp-1', [
      { command: CHECK, exitCode: 1, stdout: 'packages/debian-12/amd64/Packages: FAILED\nfiles/kubernetes/1.33.4/kubeadm: FAILED open or read\n', stderr: 'sha256sum: WARNING: 1 computed checksum did NOT match', readOnly: true },
      { command: 'mkdir -p -- /var/lib/ferry/bundle/files/kubernetes/1.33.4 /var/lib/ferry/bundle/packages/debian-12/amd64', readOnly: false },
      { command: CHECK, exitCode: 0, readOnly: true },
    ]);
    const [report] = await runPhases([{ phase: copyBundlePhase, params: DIRECT }], ctx, { concurrency: 1, hostFor: () => host });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran' });
    expect([...host.uploaded].sort()).toEqual([
      ['/var/lib/ferry/bundle/files/kubernetes/1.33.4/kubeadm', '/bundle/files/kubernetes/1.33.4/kubeadm'],
      ['/var/lib/ferry/bundle/packages/debian-12/amd64/Packages', '/bundle/packages/debian-12/amd64/Packages'],
    ]);
    expect(host.calls.at(-1)?.stdin).toBe(checksumList(nodeBundleFiles(ctx.state.bundleManifest!, ctx.lock!.stack.os)));
    expect(copyStats(ctx).get('cp-1')).toEqual({ files: 2, bytes: 30, ms: 0 });
    expect(host.unmet()).toEqual([]);
  });

  it('stops with exit 7 when the copy does not check out on the node', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'], plainBundle: true });
    const host = new FakeHost('cp-1', [
      { command: CHECK, exitCode: 1, stdout: 'files/kubernetes/1.33.4/kubeadm: FAILED\n', readOnly: true, times: 2 },
      { command: /^mkdir -p -- /, readOnly: false },
    ]);
    const error = await runPhases([{ phase: copyBundlePhase, params: DIRECT }], ctx, { concurrency: 1, hostFor: () => host }).catch((e: unknown) => e);
    expect(String(error)).toContain('cp-1: files/kubernetes/1.33.4/kubeadm differs from the manifest after copying');
    expect((error as { failures: Map<string, Error> }).failures.get('cp-1')).toBeInstanceOf(VerifyError);
  });

  it('is done when every file checks out, and never carries images to every node', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'], plainBundle: true });
    const host = new FakeHost('cp-1', [{ command: CHECK, exitCode: 0, readOnly: true }]);
    const [report] = await runPhases([{ phase: copyBundlePhase, params: DIRECT }], ctx, { concurrency: 1, hostFor: () => host });
    expect(report!.hosts).toEqual({ 'cp-1': 'already-done' });
    expect(host.calls[0]!.stdin).not.toContain('images/');
    expect(host.calls[0]!.stdin).toContain('containerd_1.6.20');
    expect(host.mutating()).toEqual([]);
  });
});
