// The firewalld phase and its reset as tables: what they see on a node → the steps they plan. Snapshots are parsed
// from real outputs of the snapshot script on a Debian 12 lab node with firewalld 1.3.3 (test/phases/fixtures/
// firewalld/, see the README there).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFirewalldSnapshot, planFirewalld, planResetFirewalld, type FirewalldSeen, type FirewalldSnapshot } from '../../src/phases/firewalld.ts';
import { renderedFile } from '../../src/render/file.ts';
import { FIREWALLD_POLICY_PATH, firewalldRuntime, ipsetPath, renderFirewalld } from '../../src/render/firewalld.ts';
import type { NftablesInput } from '../../src/render/nftables.ts';
import { lines } from './plan-support.ts';

const snap = (name: string): FirewalldSnapshot => parseFirewalldSnapshot(readFileSync(new URL(`fixtures/firewalld/${name}.out`, import.meta.url), 'utf8'));

// The input the installed fixture's files were rendered from (lab addresses of that run).
const INPUT: NftablesInput = {
  roles: ['control-plane', 'registry', 'lb'], nodes: ['10.219.152.11', '10.219.152.12'], controlPlanes: ['10.219.152.11'], balancers: ['10.219.152.11', '10.219.152.12'],
  podCidr: '10.244.0.0/16', cni: 'calico', encapsulation: { kind: 'vxlan', port: 4789 }, balancerPort: 8443, registryPort: 5000, adminAddress: '10.219.152.1',
};
const WANTED = renderFirewalld(INPUT);
const seen = (snapshot: FirewalldSnapshot, rest: Partial<FirewalldSeen> = {}): FirewalldSeen => ({ snapshot, wanted: WANTED, changed: [], expected: firewalldRuntime(INPUT), ...rest });
const PLACE_ALL = [ipsetPath('ferry-nodes'), ipsetPath('ferry-control-planes'), ipsetPath('ferry-balancers'), FIREWALLD_POLICY_PATH].map((p) => `place ${p}`);

describe('the snapshot script output', () => {
  it('reads the running policy and ipsets of an installed node', () => {
    const s = snap('snap-installed');
    expect(s).toMatchObject({ active: true, defaultZone: 'public', present: [FIREWALLD_POLICY_PATH, ipsetPath('ferry-balancers'), ipsetPath('ferry-control-planes'), ipsetPath('ferry-nodes')] });
    expect(s.runtime.rules).toHaveLength(13);
    expect(s.runtime.ipsets['ferry-nodes']).toEqual(['10.219.152.11', '10.219.152.12']);
  });
  it('tells a running firewall without ferry’s policy (INVALID_POLICY) and a stopped one', () => {
    expect(snap('snap-clean')).toEqual({ active: true, present: [], defaultZone: 'public', runtime: { policy: false, rules: [], ipsets: {} } });
    expect(snap('snap-inactive')).toEqual({ active: false, present: [], defaultZone: undefined, runtime: { policy: false, rules: [], ipsets: {} } });
  });
});

describe('firewalld plan', () => {
  const cases: [string, FirewalldSeen, string[]][] = [
    ['firewalld not running: nothing (ferry’s nft table covers the node)', seen(snap('snap-inactive'), { changed: WANTED }), []],
    ['installed and loaded: nothing', seen(snap('snap-installed')), []],
    ['firewalld running, nothing of ferry’s: every file placed (ipsets first), then a reload', seen(snap('snap-clean'), { changed: WANTED }), [...PLACE_ALL, 'firewall-cmd --reload']],
    ['files in place but the running firewall still without them (a reload that never happened): reload only', seen(snap('snap-clean')), ['firewall-cmd --reload']],
    ['one node more in the cluster: the changed ipset placed, then a reload', seen(snap('snap-installed'), { changed: [WANTED[0]!] }), [`place ${ipsetPath('ferry-nodes')}`, 'firewall-cmd --reload']],
    ['a role gone: its ipset removed, then a reload', seen(snap('snap-installed'), { wanted: WANTED.filter((f) => !f.path.endsWith('ferry-balancers.xml')) }),
      [`rm -f -- ${ipsetPath('ferry-balancers')}`, 'firewall-cmd --reload']],
    ['the running policy differs from the file (edited by hand and reloaded): reload', seen(snap('snap-installed'), { expected: { ...firewalldRuntime(INPUT), rules: [] } }), ['firewall-cmd --reload']],
  ];
  it.each(cases)('%s', (_name, s, want) => {
    expect(lines(planFirewalld(s))).toEqual(want);
  });

  it('places a checked file: the step carries firewalld’s own check of the staged copy', () => {
    const [step] = planFirewalld(seen(snap('snap-installed'), { changed: [WANTED.at(-1)!] }));
    expect(step).toMatchObject({ kind: 'place', file: { path: FIREWALLD_POLICY_PATH, verify: expect.arrayContaining(['{staged}']) } });
  });
});

describe('reset-firewalld plan', () => {
  const cases: [string, FirewalldSnapshot, string[]][] = [
    ['installed: ferry’s files removed, then a reload', snap('snap-installed'),
      [`rm -f -- ${FIREWALLD_POLICY_PATH} ${ipsetPath('ferry-balancers')} ${ipsetPath('ferry-control-planes')} ${ipsetPath('ferry-nodes')}`, 'firewall-cmd --reload']],
    ['files gone but the policy still loaded: reload', snap('snap-removed-not-reloaded'), ['firewall-cmd --reload']],
    ['nothing of ferry’s: nothing', snap('snap-clean'), []],
    ['firewalld stopped with ferry’s files left: the files go, no reload', { ...snap('snap-inactive'), present: [FIREWALLD_POLICY_PATH] }, [`rm -f -- ${FIREWALLD_POLICY_PATH}`]],
  ];
  it.each(cases)('%s', (_name, s, want) => {
    expect(lines(planResetFirewalld(s))).toEqual(want);
  });
});

it('a file that is not ferry’s is never planned for removal', () => {
  const s = snap('snap-installed');
  const steps = planFirewalld(seen({ ...s, present: s.present }, { wanted: [...WANTED, renderedFile('/etc/firewalld/zones/public.xml', 'x')] }));
  expect(lines(steps).some((l) => l.includes('public.xml'))).toBe(false);
});
