// Parses what gather.sh's firewalld section prints (only where firewalld runs): the default zone,
// `firewall-cmd --list-all-zones`, `--list-all-policies`, `--info-ipset` of each ipset and the port/protocol
// elements of each service the zones and policies name. Real outputs: test/fixtures/firewalld/.

/** A rich rule, reduced to what decides whether it lets a packet in. */
export interface FirewalldRichRule {
  family: 'ipv4' | 'ipv6' | undefined;
  source?: { address: string } | { ipset: string };
  sourceInverted: boolean;
  /** `port port="X" protocol="P"`, `protocol value="V"` or `service name="S"`; absent: every packet of the source. */
  match?: { port: string; protocol: string } | { protocol: string } | { service: string };
  action: 'accept' | 'reject' | 'drop' | 'other';
}

/** A zone or a policy: the parts of `--list-all` that let packets in. */
export interface FirewalldTarget {
  name: string;
  target: string;
  interfaces: string[];
  sources: string[];
  services: string[];
  /** `6443/tcp`, `2379-2380/tcp`. */
  ports: string[];
  protocols: string[];
  richRules: FirewalldRichRule[];
  /** Policies only. */
  priority?: number;
  ingressZones?: string[];
  egressZones?: string[];
}

export interface FirewalldConfig {
  defaultZone: string;
  zones: FirewalldTarget[];
  policies: FirewalldTarget[];
  ipsets: Record<string, string[]>;
  /** Service name → its `port/protocol` entries and IP protocols. */
  services: Record<string, { ports: string[]; protocols: string[] }>;
}

const words = (v: string | undefined) => (v ?? '').trim().split(/\s+/).filter(Boolean);

/** One `rule ...` line of `--list-all`. */
export function parseRichRule(line: string): FirewalldRichRule {
  const attr = (element: string, name: string) => new RegExp(`${element}(?: [a-z-]+="[^"]*")*? ${name}="([^"]*)"`).exec(line)?.[1];
  const family = attr('rule', 'family');
  const address = /source (?:NOT )?address="([^"]*)"/.exec(line)?.[1];
  const ipset = /source (?:NOT )?ipset="([^"]*)"/.exec(line)?.[1];
  const port = /\bport port="([^"]*)" protocol="([^"]*)"/.exec(line);
  const protocol = /\bprotocol value="([^"]*)"/.exec(line)?.[1];
  const service = /\bservice name="([^"]*)"/.exec(line)?.[1];
  const action = / (accept|reject|drop)(?: |$)/.exec(line)?.[1] as FirewalldRichRule['action'] | undefined;
  return {
    family: family === 'ipv4' || family === 'ipv6' ? family : undefined,
    ...(address ? { source: { address } } : ipset ? { source: { ipset } } : {}),
    sourceInverted: /source NOT /.test(line),
    ...(port ? { match: { port: port[1]!, protocol: port[2]! } } : protocol ? { match: { protocol } } : service ? { match: { service } } : {}),
    action: action ?? 'other',
  };
}

/** The blocks of `--list-all-zones` or `--list-all-policies`: a name line, then `  key: value` lines, rich rules tab-indented. */
export function parseListAll(text: string): FirewalldTarget[] {
  const out: FirewalldTarget[] = [];
  let cur: (FirewalldTarget & { inRich: boolean }) | undefined;
  const done = () => {
    if (!cur) return;
    const { inRich: _, ...t } = cur;
    out.push(t);
  };
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      done();
      cur = { name: line.trim().split(/\s+/)[0]!, target: 'default', interfaces: [], sources: [], services: [], ports: [], protocols: [], richRules: [], inRich: false };
      continue;
    }
    if (!cur) continue;
    if (/^\t/.test(line) && cur.inRich) {
      if (line.trim().startsWith('rule')) cur.richRules.push(parseRichRule(line.trim()));
      continue;
    }
    const m = /^ {2}([a-z][a-z -]*?):\s?(.*)$/.exec(line);
    if (!m) continue;
    const [key, value] = [m[1]!, m[2]!];
    cur.inRich = key === 'rich rules';
    if (key === 'target') cur.target = value.trim();
    else if (key === 'interfaces') cur.interfaces = words(value);
    else if (key === 'sources') cur.sources = words(value);
    else if (key === 'services') cur.services = words(value);
    else if (key === 'ports') cur.ports = words(value);
    else if (key === 'protocols') cur.protocols = words(value);
    else if (key === 'priority') cur.priority = Number(value);
    else if (key === 'ingress-zones') cur.ingressZones = words(value);
    else if (key === 'egress-zones') cur.egressZones = words(value);
  }
  done();
  return out;
}

/** The firewalld section of gather.sh; undefined when it printed nothing (firewalld not running, or no firewall-cmd). */
export function parseFirewalld(lines: readonly string[]): FirewalldConfig | undefined {
  const defaultZone = /^default-zone (\S+)/.exec(lines[0] ?? '')?.[1];
  if (!defaultZone) return undefined;
  const parts = new Map<string, string[]>();
  let key = '';
  for (const line of lines.slice(1)) {
    const m = /^== (.+)$/.exec(line);
    if (m) parts.set((key = m[1]!), []);
    else parts.get(key)?.push(line);
  }
  const ipsets: FirewalldConfig['ipsets'] = {};
  const services: FirewalldConfig['services'] = {};
  for (const [k, body] of parts) {
    const [kind, name] = k.split(' ');
    if (kind === 'ipset' && name) ipsets[name] = words(body.find((l) => l.trim().startsWith('entries:'))?.trim().slice('entries:'.length));
    if (kind === 'service' && name) {
      const ports = body.flatMap((l) => {
        const port = /<port\b[^>]*\bport="([^"]+)"/.exec(l)?.[1];
        const proto = /<port\b[^>]*\bprotocol="([^"]+)"/.exec(l)?.[1];
        return port && proto ? [`${port}/${proto}`] : [];
      });
      const protocols = body.flatMap((l) => /<protocol\b[^>]*\bvalue="([^"]+)"/.exec(l)?.[1] ?? []);
      services[name] = { ports, protocols };
    }
  }
  return { defaultZone, zones: parseListAll((parts.get('zones') ?? []).join('\n')), policies: parseListAll((parts.get('policies') ?? []).join('\n')), ipsets, services };
}
