// Calico's upstream manifest (calico.yaml, from the bundle, images already pointing at the local registry) made
// fit for this cluster: the default pool's encapsulation, CIDR and tunnel MTU and Felix's iptables backend, set on
// the calico-node container's environment (variable names as Calico's calico-node configuration reference gives
// them). Pure: YAML documents in, YAML documents out; every other object and field is left as upstream wrote it.
import { isMap, isSeq, parseAllDocuments, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { UserError } from '../../errors.ts';

export interface CalicoSettings {
  encapsulation: 'ipip' | 'vxlan';
  /** FELIX_IPTABLESBACKEND: NFT, Legacy or Auto. */
  iptablesBackend: 'NFT' | 'Legacy' | 'Auto';
  /** The cluster's pod subnet (kubeadm networking.podSubnet). */
  podCidr: string;
  /** Tunnel MTU (doctor's figure); without it Calico auto-detects. */
  mtu?: number;
}

/** The calico-node environment values these settings give. */
export function calicoEnv(s: CalicoSettings): Record<string, string> {
  const env: Record<string, string> = {
    CALICO_IPV4POOL_IPIP: s.encapsulation === 'ipip' ? 'Always' : 'Never',
    CALICO_IPV4POOL_VXLAN: s.encapsulation === 'vxlan' ? 'Always' : 'Never',
    CALICO_IPV4POOL_CIDR: s.podCidr,
    FELIX_IPTABLESBACKEND: s.iptablesBackend,
  };
  if (s.mtu !== undefined) {
    if (!Number.isInteger(s.mtu) || s.mtu < 576 || s.mtu > 9000) throw new UserError(`the CNI MTU must be an integer from 576 to 9000, got ${s.mtu}`);
    env.FELIX_IPINIPMTU = String(s.mtu);
    env.FELIX_VXLANMTU = String(s.mtu);
  }
  return env;
}

function named(seq: unknown, name: string): YAMLMap | undefined {
  if (!isSeq(seq)) return undefined;
  return (seq as YAMLSeq).items.find((i): i is YAMLMap => isMap(i) && i.get('name') === name);
}

function calicoNode(docs: Document[], source: string): YAMLMap {
  const ds = docs.find((d) => d.get('kind') === 'DaemonSet' && d.getIn(['metadata', 'name']) === 'calico-node');
  if (!ds) throw new UserError(`${source}: no calico-node DaemonSet: is this Calico's calico.yaml manifest?`);
  const container = named(ds.getIn(['spec', 'template', 'spec', 'containers']), 'calico-node');
  if (!container) throw new UserError(`${source}: the calico-node DaemonSet has no calico-node container`);
  return container;
}

/** The manifest with the settings applied to the calico-node container's env (values replace valueFrom). */
export function patchCalicoManifest(text: string, settings: CalicoSettings, source = 'calico.yaml'): string {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length > 0) throw new UserError(`${source}: not valid YAML: ${d.errors[0]!.message}`);
  const list = (docs as Document[]).filter((d) => d.contents !== null);
  const container = calicoNode(list, source);
  if (!isSeq(container.get('env'))) container.set('env', list[0]!.createNode([]));
  const env = container.get('env') as YAMLSeq;
  for (const [name, value] of Object.entries(calicoEnv(settings))) {
    const entry = named(env, name);
    if (entry) {
      entry.delete('valueFrom');
      entry.set('value', value);
    } else env.add(list[0]!.createNode({ name, value }));
  }
  // A document keeps the `---` it was written with; the others get one, so the output is one valid stream.
  return list.map((d) => d.toString({ lineWidth: 0 })).map((t) => (t.startsWith('---') ? t : `---\n${t}`)).join('');
}
