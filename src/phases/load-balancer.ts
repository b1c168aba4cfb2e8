// load-balancer: HAProxy (and keepalived with the VIP, in VIP mode) on the control-plane or lb hosts, or HAProxy
// on every node in node-local mode. Each config is checked on the node by its own tool (`haproxy -c -f`,
// `keepalived -t -f`) on a staged copy before it replaces the live one, then the services are (re)started.
import { HAPROXY_CONFIG_PATH } from '../render/haproxy.ts';
import { KEEPALIVED_CHECK_PATH, KEEPALIVED_CONFIG_PATH } from '../render/keepalived.ts';
import { balancerHosts } from '../render/node-files.ts';
import type { RenderedFile } from '../render/file.ts';
import { nodeFacts } from './node-facts.ts';
import type { OsFamily } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { installStep, missingPackages } from './packages.ts';
import { filesToChange, placementOrder } from './place-files.ts';
import type { Phase } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

export const HAPROXY_DROP_IN = '/etc/systemd/system/haproxy.service.d/10-ferry.conf';
const LB_FILES = [HAPROXY_CONFIG_PATH, HAPROXY_DROP_IN, KEEPALIVED_CONFIG_PATH, KEEPALIVED_CHECK_PATH];

/** The services this mode runs. */
export function balancerServices(mode: 'vip' | 'node-local'): string[] {
  return mode === 'vip' ? ['haproxy', 'keepalived'] : ['haproxy'];
}

/** What load-balancer sees on a node. */
export interface BalancerSeen {
  family: OsFamily;
  /** The packages of this mode, and those of them not installed. */
  packages: string[];
  missing: string[];
  /** Rendered files whose content on the node differs (missing ones included). */
  changed: RenderedFile[];
  /** Per service: active and enabled. */
  services: { name: string; active: boolean; enabled: boolean }[];
}

/** The steps from what was seen: packages, files (checked before placed), then each service enabled and (re)started where needed. */
export function planBalancer(s: BalancerSeen): Step[] {
  const steps: Step[] = [];
  if (s.missing.length > 0) steps.push(installStep(s.family, s.packages, 'load-balancer'));
  steps.push(...place(...placementOrder(s.changed)));
  if (s.changed.some((f) => f.path === HAPROXY_DROP_IN)) steps.push(exec(['systemctl', 'daemon-reload']));
  for (const service of s.services) {
    const touched = s.changed.some((f) => f.path.includes(service.name === 'haproxy' ? '/haproxy' : '/keepalived/'));
    if (!service.enabled) steps.push(exec(['systemctl', 'enable', service.name]));
    if (touched || !service.active || s.missing.length > 0) steps.push(exec(['systemctl', 'restart', service.name]));
  }
  return steps;
}

export const loadBalancerPhase: Phase<Record<string, unknown>, BalancerSeen> = {
  id: 'load-balancer',
  wholeCluster: true,
  title: 'HAProxy and keepalived in front of the API servers',
  undo: 'reset-load-balancer',
  targets: (ctx) => (ctx.inventory.network.loadBalancer === 'vip' ? balancerHosts(ctx.inventory) : ctx.inventory.hosts),
  async observe(target, ctx) {
    const { host } = target;
    const facts = await nodeFacts(target, ctx.state);
    const family = pickFamily(target.spec.name, facts);
    const mode = ctx.inventory.network.loadBalancer;
    const packages = family.packages('load-balancer').filter((p) => mode === 'vip' || p === 'haproxy');
    const files = nodeFiles(ctx, target.spec.name, facts).filter((f) => LB_FILES.includes(f.path));
    const names = balancerServices(mode);
    const lines = async (verb: string) => (await host.exec(['systemctl', verb, ...names], { allowFailure: true })).stdout.split('\n').map((l) => l.trim());
    const [active, enabled] = [await lines('is-active'), await lines('is-enabled')];
    return {
      family, packages, missing: await missingPackages(host, family, packages), changed: await filesToChange(host, files),
      services: names.map((name, i) => ({ name, active: active[i] === 'active', enabled: enabled[i] === 'enabled' })),
    };
  },
  plan: (seen) => planBalancer(seen),
};
