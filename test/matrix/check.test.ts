import { describe, expect, it } from 'vitest';
import { checkMatrix } from '../../src/matrix/check.ts';
import type { Matrix } from '../../src/matrix/schema.ts';
import { realMatrix } from './fixture.ts';

describe('checkMatrix', () => {
  it('finds nothing wrong in the matrices ferry ships', async () => {
    const { matrix, files } = await realMatrix();
    expect(checkMatrix(matrix, files)).toEqual([]);
  });

  it('accepts a Kubernetes minor newer than every CRI-O (CRI-O ships after Kubernetes)', async () => {
    const { matrix, files } = await realMatrix();
    expect(matrix.kubernetes.releases.at(-1)!.minor).toBe('1.37');
    expect(matrix.crio.releases.at(-1)!.minor).toBe('1.36');
    expect(checkMatrix(matrix, files)).toEqual([]);
  });

  // Each row breaks one copy of the real matrix in one way.
  const breakages: [string, (m: Matrix) => void, string, RegExp][] = [
    ['a GPU naming an unknown architecture', (m) => (m.gpus.models[0]!.architecture = 'fermi'), 'models[0].architecture', /unknown architecture fermi \(known: kepler/],
    ['an OS release naming an unknown distro', (m) => (m.os.releases[0]!.distros = ['centos']), 'releases[0].distros[0]', /unknown distro centos/],
    ['a containerd minimum with no containerd branch', (m) => (m.kubernetes.releases[0]!.containerd.min = ['1.5.0']), 'releases[0].containerd.min[0]', /no branch 1\.5/],
    ['a tested runc with no runc branch', (m) => (m.containerd.releases[0]!.testedRunc = '1.0.3'), 'releases[0].testedRunc', /no runc branch 1\.0/],
    ['a duplicate GPU model', (m) => m.gpus.models.push({ ...m.gpus.models[0]! }), 'models[13]', /duplicate GPU model k80/],
    ['a rule id used twice', (m) => (m.nvidia.architectures[0]!.constraints[0]!.id = 'containerd-min-for-k8s'), 'architectures[0].constraints[0].id', /rule id containerd-min-for-k8s is used twice/],
    ['a source that is not a URL', (m) => (m.runc.releases[0]!.source = 'trust me'), 'releases[0].source', /"trust me" is not a primary source/],
    ['a secondary source (a forum)', (m) => (m.nvidia.branches[0]!.source = 'https://forums.developer.nvidia.com/t/current-graphics-driver-releases/28500/12'), 'branches[0].source', /is not a primary source/],
    ['a secondary source (another project\'s deployment files)', (m) => (m.kubernetes.releases[1]!.containerd.source = 'https://github.com/example/deploy/blob/main/versions.yaml'), 'releases[1].containerd.source', /is not a primary source/],
    ['a fact with no read date', (m) => delete m.cni.releases[0]!.kernel.read, 'releases[0].kernel.read', /no date the fact was read/],
    ['an OS release without a lifecycle for one of its distros', (m) => (m.os.releases[0]!.lifecycle = m.os.releases[0]!.lifecycle.filter((l) => l.distro !== 'alma')), 'releases[0].lifecycle', /no lifecycle \(end of support\) for alma 8\.6/],
    ['a latest patch outside its minor', (m) => (m.kubernetes.releases[0]!.latest = '1.30.1'), 'releases[0].latest', /not a 1\.29 patch/],
    ['a Kubernetes minor without CRI-O (older than the newest CRI-O)', (m) => m.crio.releases.splice(3, 1), 'releases', /no CRI-O 1\.32/],
  ];
  it.each(breakages)('reports %s', async (_name, breakIt, field, message) => {
    const { matrix, files } = await realMatrix();
    const broken = structuredClone(matrix);
    breakIt(broken);
    const issues = checkMatrix(broken, files);
    expect(issues.map((i) => i.field)).toContain(field);
    expect(issues.map((i) => i.message).join('\n')).toMatch(message);
    expect(issues.every((i) => i.file.endsWith('.yaml'))).toBe(true);
  });
});
