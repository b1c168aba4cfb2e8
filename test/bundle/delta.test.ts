// Delta bundles by digest: an artifact whose sha256 the base already has is not carried (at the same path it is
// unchanged, elsewhere it is copied inside the base on apply); verify names the base; apply makes the full bundle.
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyDelta } from '../../src/bundle/apply.ts';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { describeDelta, planDelta, renderDeltaNote } from '../../src/bundle/delta.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import { sealBundle } from '../../src/bundle/seal.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { hashBytes } from '../../src/util/hash.ts';
import { tempDir } from './support/make-bundle.ts';

const file = (path: string, text: string): Artifact => ({ kind: 'file', path, size: Buffer.byteLength(text), sha256: hashBytes(Buffer.from(text)).sha256, source: `test:${path}`, name: path.split('/').at(-1)! });
const manifest = (artifacts: Artifact[]): BundleManifest => ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'base', createdAt: '2026-11-01T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts });

describe('planDelta', () => {
  const base = manifest([file('files/a/x', 'X'), file('files/b/y', 'Y'), file('files/old/o', 'O')]);
  it.each([
    ['the same file at the same path', 'unchanged', file('files/a/x', 'X')],
    ['new bytes at a known path', 'carried', file('files/b/y', 'Y2')],
    ['known bytes at a new path', 'moved', file('files/a2/x', 'X')],
    ['new bytes at a new path', 'carried', file('files/c/z', 'Z')],
  ])('%s is %s', (_name, where, artifact) => {
    const plan = planDelta(base, [artifact]);
    expect({ carried: plan.carried.length, unchanged: plan.unchanged.length, moved: plan.moved.length }).toEqual({ carried: where === 'carried' ? 1 : 0, unchanged: where === 'unchanged' ? 1 : 0, moved: where === 'moved' ? 1 : 0 });
    if (where === 'moved') expect(plan.moved[0]!.from).toBe('files/a/x');
  });

  it('lists what the base has and the new bundle does not as removed', () => {
    expect(planDelta(base, [file('files/a/x', 'X')]).removed).toEqual(['files/b/y', 'files/old/o']);
  });
});

describe('a delta by digest, applied', () => {
  async function put(dir: string, a: Artifact, text: string) {
    await mkdir(dirname(join(dir, a.path)), { recursive: true });
    await writeFile(join(dir, a.path), text);
  }
  const seal = (dir: string, name: string, artifacts: Artifact[], base?: BundleManifest['base']) =>
    sealBundle({ dir, name, createdAt: new Date('2026-12-01T00:00:00Z'), platform: 'linux/amd64', osId: 'debian', lockText: 'lock: test\n', artifacts, toolVersion: '0.0.0-test', ...(base ? { base } : {}) });

  it('carries only new digests, copies moved files inside the base, and verify says what it is a delta of', async () => {
    const work = await tempDir('ferry-delta-test-');
    const baseDir = join(work, 'base');
    const old = [['files/a/x', 'X'], ['files/b/y', 'Y'], ['files/old/o', 'O']] as const;
    for (const [p, t] of old) await put(baseDir, file(p, t), t);
    const { manifestText } = await seal(baseDir, 'base', old.map(([p, t]) => file(p, t)));

    const next = [['files/a2/x', 'X'], ['files/b/y', 'Y2'], ['files/c/z', 'Z']] as const;
    const artifacts = next.map(([p, t]) => file(p, t));
    const plan = planDelta(manifest(old.map(([p, t]) => file(p, t))), artifacts);
    const deltaDir = join(work, 'delta');
    for (const a of plan.carried) await put(deltaDir, a, next.find(([p]) => p === a.path)![1]);
    const baseRef = { manifestSha256: hashBytes(Buffer.from(manifestText)).sha256, name: 'base', createdAt: '2026-12-01T00:00:00Z' };
    const note = { apiVersion: 'ferry.dev/v1alpha1' as const, kind: 'BundleDelta' as const, base: baseRef, carried: [...plan.carried.map((a) => a.path), BundleLayout.lock, BundleLayout.sbom].sort(), removed: plan.removed, moved: plan.moved.map((m) => ({ path: m.artifact.path, from: m.from })) };
    await writeFile(join(deltaDir, BundleLayout.delta), renderDeltaNote(note));
    await seal(deltaDir, 'next', artifacts, baseRef);

    expect(plan.carried.map((a) => a.path)).toEqual(['files/b/y', 'files/c/z']);
    const v = await verifyBundle(deltaDir);
    expect(v.notes.join('\n')).toContain(`delta of bundle "base" built 2026-12-01T00:00:00Z (base manifest.yaml sha256 ${baseRef.manifestSha256})`);
    expect(describeDelta(note, artifacts.map((a) => a.path))).toContain('leaves 1 artifact(s) to the base (1 of them under another path there), removes 2');

    const applied = await applyDelta(deltaDir, baseDir);
    expect(applied.ok).toBe(true);
    expect(await readFile(join(baseDir, 'files/a2/x'), 'utf8')).toBe('X');
    expect(await readFile(join(baseDir, 'files/b/y'), 'utf8')).toBe('Y2');
    expect(await stat(join(baseDir, 'files/a/x')).catch(() => 'absent')).toBe('absent');
    expect((await applyDelta(deltaDir, baseDir)).ok).toBe(true);
  });
});
