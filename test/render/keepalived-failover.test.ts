// The rendered keepalived configs run for real: two balancer hosts as two network namespaces joined by a veth,
// unicast VRRP with PASS authentication between them. The VIP sits on the first and moves to the second when the
// first one's keepalived stops. (Neither host has an API server, so both checks fail alike and the priority order
// stands.) Every process is started and ended by PID; the namespaces go with them.
import { afterAll, describe, expect, it } from 'vitest';
import { renderKeepalived } from '../../src/render/keepalived.ts';
import { put, tempDir, tool } from './tools.ts';
import { vethPairScript } from './netns.ts';

const peers = [
  { name: 'cp-1', address: '10.251.8.11' },
  { name: 'cp-2', address: '10.251.8.12' },
];
const vip = '10.251.8.100';
const authPass = Math.random().toString(36).slice(2, 10);

describe('keepalived failover between two namespaces', () => {
  const tmp = tempDir('kafail');
  afterAll(() => tmp.cleanup());

  it('holds the VIP on the first host and moves it to the second when the first stops', async () => {
    const confs = peers.map((self, i) => {
      const [conf, check] = renderKeepalived({
        self, peers, interface: `ferryka${i}`, vip, virtualRouterId: 77, authPass, apiPort: 8443,
        checkScriptPath: `${tmp.dir}/check-${i}.sh`,
      });
      put(tmp.dir, `check-${i}.sh`, check!.content, 0o755);
      return put(tmp.dir, `keepalived-${i}.conf`, conf!.content, 0o600);
    });
    const script = `${vethPairScript({ ifname: 'ferryka0', addresses: ['10.251.8.11/24'] }, { ifname: 'ferryka1', addresses: ['10.251.8.12/24'] })}
      D="$3"; B=$PEER
      keepalived -n -l -f "$1" -p $D/a.pid -r $D/a-vrrp.pid -c $D/a-chk.pid & KA=$!
      nsenter --net=/proc/$B/ns/net keepalived -n -l -f "$2" -p $D/b.pid -r $D/b-vrrp.pid -c $D/b-chk.pid & KB=$!
      has_vip() { nsenter --net=/proc/$1/ns/net ip -4 -o addr show dev $2 | grep -q ' ${vip}/32'; }
      i=0; until has_vip $$ ferryka0 || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done
      has_vip $$ ferryka0 && echo "vip on cp-1"
      has_vip $B ferryka1 || echo "not on cp-2"
      t0=$(date +%s%N); kill $KA
      i=0; until has_vip $B ferryka1 || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done
      has_vip $B ferryka1 && echo "vip moved to cp-2 after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
      wait $KA 2>/dev/null || true
      kill $KB $B; wait $KB 2>/dev/null || true`;
    const r = await tool(['unshare', '--net', 'sh', '-c', script, 'sh', confs[0]!, confs[1]!, tmp.dir], 40_000);
    expect(r.output).toMatch(/vip on cp-1/);
    expect(r.output).toMatch(/not on cp-2/);
    expect(r.output).toMatch(/vip moved to cp-2 after \d+ ms/);
    expect(r.output).not.toContain(authPass);
  }, 60_000);
});
