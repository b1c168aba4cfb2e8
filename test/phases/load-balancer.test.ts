// load-balancer's plan as a table: what it sees on a balancer host → the steps it plans.
import { describe, expect, it } from 'vitest';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { HAPROXY_DROP_IN, planBalancer, type BalancerSeen } from '../../src/phases/load-balancer.ts';
import { renderedFile } from '../../src/render/file.ts';
import { lines } from './plan-support.ts';

const up = (name: string) => ({ name, active: true, enabled: true });
function seen(rest: Partial<BalancerSeen> = {}): BalancerSeen {
  return { family: debianFamily, packages: ['haproxy', 'keepalived', 'curl'], missing: [], changed: [], services: [up('haproxy'), up('keepalived')], ...rest };
}
const APT = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 install --no-install-recommends haproxy keepalived curl';

describe('load-balancer plan', () => {
  const cases: [string, BalancerSeen, string[]][] = [
    ['running with ferry\'s files: nothing', seen(), []],
    ['fresh: packages, files (checked ones last), reload, enable and restart both', seen({
      missing: ['haproxy', 'keepalived', 'curl'],
      changed: [renderedFile('/etc/haproxy/haproxy.cfg', 'x', { verify: ['haproxy', '-c', '-f', '{staged}'] }), renderedFile(HAPROXY_DROP_IN, '[Service]\n')],
      services: [{ name: 'haproxy', active: false, enabled: false }, { name: 'keepalived', active: false, enabled: false }],
    }), [APT, `place ${HAPROXY_DROP_IN}`, 'place /etc/haproxy/haproxy.cfg', 'systemctl daemon-reload',
      'systemctl enable haproxy', 'systemctl restart haproxy', 'systemctl enable keepalived', 'systemctl restart keepalived']],
    ['keepalived.conf changed: only keepalived restarts', seen({ changed: [renderedFile('/etc/keepalived/keepalived.conf', 'x')] }),
      ['place /etc/keepalived/keepalived.conf', 'systemctl restart keepalived']],
    ['haproxy stopped: restarted, nothing else', seen({ services: [{ name: 'haproxy', active: false, enabled: true }, up('keepalived')] }), ['systemctl restart haproxy']],
    ['keepalived disabled but running: enabled only', seen({ services: [up('haproxy'), { name: 'keepalived', active: true, enabled: false }] }), ['systemctl enable keepalived']],
  ];
  it.each(cases)('%s', (_name, s, want) => {
    expect(lines(planBalancer(s))).toEqual(want);
  });
});
