import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { parsePin, parseRequest, type RawRequest } from '../../src/matrix/request.ts';
import { UserError } from '../../src/errors.ts';
import { realMatrix } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

describe('parsePin', () => {
  const good: [string, string, string, string | null][] = [
    ['a Kubernetes minor', 'kubernetes=1.35', '1.35', null],
    ['a whole Kubernetes version', 'kubernetes=1.35.2', '1.35', '1.35.2'],
    ['a driver branch', 'nvidia-driver=580', '580', null],
    ['a whole driver version', 'nvidia-driver=580.95.05', '580', '580.95.5'],
    ['a CNI minor', 'cilium=1.17', '1.17', null],
    ['a runc patch', 'runc=1.3.3', '1.3', '1.3.3'],
  ];
  it.each(good)('accepts %s', (_name, text, line, exact) => {
    const [, pin] = parsePin(catalog, text);
    expect(pin.line).toBe(line);
    expect(pin.exact?.version ?? null).toBe(exact);
  });

  const bad: [string, string, RegExp][] = [
    ['no equals sign', 'kubernetes', /malformed pin "kubernetes"/],
    ['a non-numeric version', 'kubernetes=latest', /malformed pin/],
    ['an unknown component', 'docker=24.0', /unknown component "docker".*known: kubernetes, containerd/],
    ['an unknown Kubernetes minor', 'kubernetes=1.28', /unknown kubernetes version "1\.28".*known: 1\.37, 1\.36, 1\.35/],
    ['a major-only Kubernetes version', 'kubernetes=1', /unknown kubernetes version "1"/],
    ['an unknown driver branch', 'nvidia-driver=470', /unknown nvidia-driver version "470".*known: 620, 610, 595, 580/],
  ];
  it.each(bad)('refuses %s with exit 2, naming what is known', (_name, text, message) => {
    expect(() => parsePin(catalog, text)).toThrow(UserError);
    expect(() => parsePin(catalog, text)).toThrow(message);
  });
});

describe('parseRequest', () => {
  const bad: [string, RawRequest, RegExp][] = [
    ['an unknown OS', { os: 'fedora-41' }, /unknown OS "fedora-41" \(known: rhel-8\.6, .*debian-12; os-release IDs almalinux = alma\)/],
    ['a refused OS, with the reason', { os: 'centos-7' }, /CentOS \(centos-7\) is not supported: CentOS Linux 8 ended/],
    ['Oracle Linux, with the reason', { os: 'ol-9.4' }, /Oracle Linux \(ol-9\.4\) is not supported: its default kernel is the Unbreakable Enterprise Kernel/],
    ['an OS version the matrix lacks', { os: 'rocky-9.9' }, /unknown OS "rocky-9\.9".*the matrix knows rocky 8\.6, .*10\.1/],
    ['an OS name that is not ID-VERSION_ID', { os: 'rocky' }, /expected <ID>-<VERSION_ID> as in \/etc\/os-release/],
    ['an unknown GPU', { os: 'debian-12', gpu: 'rtx9090' }, /unknown GPU "rtx9090" \(known: k80, .*b200\)/],
    ['an unknown CRI', { os: 'debian-12', cri: 'docker' }, /unknown CRI "docker"/],
    ['an unknown CNI', { os: 'debian-12', cni: 'weave' }, /unknown CNI "weave"/],
    ['an unknown cgroup version', { os: 'debian-12', cgroup: 'v3' }, /unknown cgroup version "v3"/],
    ['an unknown architecture', { os: 'debian-12', arch: 'riscv64' }, /unknown architecture "riscv64"/],
    ['--k8s against a Kubernetes pin', { os: 'debian-12', k8s: '1.35', pins: ['kubernetes=1.34'] }, /disagrees/],
    ['a component pinned twice', { os: 'debian-12', pins: ['runc=1.3', 'runc=1.4'] }, /pinned twice/],
    ['a containerd pin with CRI-O', { os: 'debian-12', cri: 'cri-o', pins: ['containerd=2.0'] }, /does not fit --cri cri-o/],
    ['two CNIs pinned', { os: 'debian-12', pins: ['calico=3.31', 'cilium=1.18'] }, /more than one CNI/],
    ['a CNI pin against --cni', { os: 'debian-12', cni: 'flannel', pins: ['calico=3.31'] }, /does not fit --cni flannel/],
  ];
  it.each(bad)('refuses %s', (_name, raw, message) => {
    expect(() => parseRequest(catalog, raw)).toThrow(message);
  });

  it('derives the CRI and CNI from pins and lowercases the GPU', () => {
    const req = parseRequest(catalog, { os: 'debian-12', gpu: 'H100', pins: ['cri-o=1.35', 'cilium=1.18'] });
    expect(req).toMatchObject({ gpu: 'h100', cri: 'cri-o', cni: 'cilium', cgroup: null, arch: 'amd64' });
  });
});
