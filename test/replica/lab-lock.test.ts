// The lab's lock request: Debian 12 with the replica's runtime pinned, and only runc's refusals accepted by name.
import { describe, expect, it } from 'vitest';
import { acceptedRuncRisks, labResolveRequest } from '../../src/replica/lab-lock.ts';

describe('labResolveRequest', () => {
  it('pins the runtime the replica carries', () => {
    expect(labResolveRequest({ containerd: '2.1.9', runc: '1.1.5' }, '1.34')).toEqual(['resolve', '--os', 'debian-12', '--k8s', '1.34', '--pin', 'containerd=2.1.9', '--pin', 'runc=1.1.5']);
    expect(labResolveRequest({ containerd: '2.1.9', runc: '1.1.5' }, '1.33', 'h100').slice(0, 5)).toEqual(['resolve', '--os', 'debian-12', '--gpu', 'h100']);
    // A mixed lab cluster: one --os per release, in order.
    expect(labResolveRequest({ containerd: '2.1.9', runc: '1.1.5' }, '1.33', undefined, ['rocky-9.4', 'debian-12']).slice(0, 5)).toEqual(['resolve', '--os', 'rocky-9.4', '--os', 'debian-12']);
  });
});

describe('acceptedRuncRisks', () => {
  it('accepts each runc refusal resolve named, once, sorted', () => {
    const conflicts = [{ rules: ['runc-cve-2025-52565'] }, { rules: ['runc-min-for-containerd', 'runc-cve-2024-21626'] }, { rules: ['runc-cve-2025-52565'] }];
    expect(acceptedRuncRisks(conflicts)).toEqual(['--accept-risk', 'runc-cve-2024-21626', '--accept-risk', 'runc-cve-2025-52565', '--accept-risk', 'runc-min-for-containerd']);
  });
  it('accepts nothing when nothing was refused', () => expect(acceptedRuncRisks([])).toEqual([]));
  it('refuses to accept anything but runc\'s floors', () => {
    expect(() => acceptedRuncRisks([{ rules: ['runc-cve-2024-21626'] }, { rules: ['containerd-min-for-k8s'] }])).toThrow(/other reasons than runc's floors: containerd-min-for-k8s/);
  });
});
