// load-balancer: HAProxy (and keepalived with the VIP, in VIP mode) on the control-plane or lb hosts, or HAProxy
// on every node in node-local mode. Each config is checked on the node by its own tool (`haproxy -c -f`,
// `keepalived -t -f`) on a staged copy before it replaces the live one, then the services are (re)started.
import { HAPROXY_CONFIG_PATH } from '../render/haproxy.ts';
import { KEEPALIVED_CHECK_PATH, KEEPALIVED_CONFIG_PATH } from '../render/keepalived.ts';
import { balancerHosts } from '../render/node-files.ts';
import type { RenderedFile } from '../render/file.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { installPackages, missingPackages } from './packages.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';

const HAPROXY_DROP_IN = '/etc/systemd/system/haproxy.service.d/10-ferry.conf';
const LB_FILES = [HAPROXY_CONFIG_PATH, HAPROXY_DROP_IN, KEEPALIVED_CONFIG_PATH, KEEPALIVED_CHECK_PATH];

/** The services this mode runs. */
export function balancerServices(mode: 'vip' | 'node-local'): string[] {
  return mode === 'vip' ? ['haproxy', 'keepalived'] : ['haproxy'];
}

async function look(target: PhaseTarget, ctx: PhaseContext) {
  const facts = await nodeFacts(target, ctx.state);
  const family = pickFamily(target.spec.name, facts);
  const mode = ctx.inventory.network.loadBalancer;
  const packages = family.packages('load-balancer').filter((p) => mode === 'vip' || p === 'haproxy');
  const files: RenderedFile[] = nodeFiles(ctx, target.spec.name, facts).filter((f) => LB_FILES.includes(f.path));
  const services = balancerServices(mode);
  const states = await target.host.exec(['systemctl', 'is-active', ...services], { readOnly: true, allowFailure: true });
  const active = new Map(services.map((s, i) => [s, states.stdout.split('\n')[i]?.trim() === 'active']));
  return { family, packages, files, services, active, missing: await missingPackages(target.host, family, packages) };
}

export const loadBalancerPhase: Phase = {
  id: 'load-balancer',
  wholeCluster: true,
  title: 'HAProxy and keepalived in front of the API servers',
  targets: (ctx) => (ctx.inventory.network.loadBalancer === 'vip' ? balancerHosts(ctx.inventory) : ctx.inventory.hosts),
  async isDone(target, ctx) {
    const s = await look(target, ctx);
    return s.missing.length === 0 && [...s.active.values()].every(Boolean) && (await filesToChange(target.host, s.files)).length === 0;
  },
  async run(target, ctx) {
    const { host } = target;
    const s = await look(target, ctx);
    if (s.missing.length > 0) await installPackages(host, s.family, s.packages, 'load-balancer');
    const changed = await filesToChange(host, s.files);
    await placeFiles(host, changed);
    if (changed.some((f) => f.path === HAPROXY_DROP_IN)) await host.exec(['systemctl', 'daemon-reload']);
    for (const service of s.services) {
      const touched = changed.some((f) => f.path.includes(service === 'haproxy' ? '/haproxy' : '/keepalived/'));
      await host.exec(['systemctl', 'enable', service]);
      if (touched || !s.active.get(service)) await host.exec(['systemctl', 'restart', service]);
    }
  },
};
