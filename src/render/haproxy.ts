// HAProxy as the L4 balancer in front of the API servers: TCP to every control plane on 6443, each one
// health-checked (HTTPS /readyz verified against the cluster CA when it is on the node, else a TCP connect).
import { UserError } from '../errors.ts';
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';
import { renderDropIn } from './systemd.ts';

export interface ApiServerBackend {
  name: string;
  address: string;
  /** kube-apiserver's port on that node; default 6443. */
  port?: number;
}

export interface HaproxyInput {
  /** Where HAProxy listens: `*` (all addresses, e.g. behind a keepalived VIP) or one address such as 127.0.0.1. */
  bindAddress: string;
  bindPort: number;
  backends: readonly ApiServerBackend[];
  /** Cluster CA on this node: health checks then GET /readyz over verified TLS. Without it: TCP connect checks. */
  healthCheckCaFile?: string;
}

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
/** `haproxy -c` checks a config without starting (HAProxy management guide, "-c"). */
export const HAPROXY_VERIFY = ['haproxy', '-c', '-f', STAGED_FILE] as const;

const word = /^[A-Za-z0-9_.:\/-]+$/;

function checkInput(input: HaproxyInput): void {
  if (input.backends.length === 0) throw new UserError('the API server balancer needs at least one control plane');
  const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!port(input.bindPort)) throw new UserError(`bad balancer port ${input.bindPort}`);
  if (input.bindAddress !== '*' && !/^[0-9a-fA-F.:]+$/.test(input.bindAddress))
    throw new UserError(`balancer bind address must be * or an IP address, got ${JSON.stringify(input.bindAddress)}`);
  const names = new Set<string>();
  for (const b of input.backends) {
    if (!word.test(b.name) || !word.test(b.address) || !port(b.port ?? 6443))
      throw new UserError(`bad API server backend ${JSON.stringify(b)}`);
    if (names.has(b.name)) throw new UserError(`API server backend ${b.name} is listed twice`);
    names.add(b.name);
  }
  if (input.healthCheckCaFile !== undefined && !word.test(input.healthCheckCaFile))
    throw new UserError(`bad CA file path ${JSON.stringify(input.healthCheckCaFile)}`);
}

/** haproxy.cfg text for the API server balancer (used by the VIP mode and the node-local mode alike). */
export function renderHaproxyText(input: HaproxyInput, title: string): string {
  checkInput(input);
  const tls = input.healthCheckCaFile;
  const check = tls ? `check check-ssl verify required ca-file ${tls}` : 'check';
  const lines = [
    `# ${title}`,
    'global',
    '    log /dev/log local0',
    '    maxconn 8000',
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option tcplog',
    '    option dontlognull',
    '    retries 3',
    '    timeout connect 5s',
    // Watches are long-lived: do not cut them after the usual HTTP timeouts.
    '    timeout client 4h',
    '    timeout server 4h',
    '    timeout check 3s',
    '',
    'frontend kube-apiserver',
    `    bind ${input.bindAddress === '*' ? '' : input.bindAddress.includes(':') ? `[${input.bindAddress}]` : input.bindAddress}:${input.bindPort}`,
    '    default_backend kube-apiserver',
    '',
    'backend kube-apiserver',
    '    balance roundrobin',
    ...(tls ? ['    option httpchk', '    http-check send meth GET uri /readyz', '    http-check expect status 200'] : []),
    '    default-server inter 2s fall 3 rise 2',
    ...input.backends.map((b) => `    server ${b.name} ${b.address}:${b.port ?? 6443} ${check}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** haproxy.service drop-in: room for maxconn's file descriptors (about 2 per connection) and restart on failure. */
export function renderHaproxyDropIn(): RenderedFile {
  return renderDropIn('haproxy.service', '10-ferry', { Service: { LimitNOFILE: 65536, Restart: 'always', RestartSec: 2 } }, 'Written by ferry.');
}

/** /etc/haproxy/haproxy.cfg and its service drop-in for the control-plane or lb hosts that carry the VIP. */
export function renderHaproxyConfig(input: HaproxyInput): RenderedFile[] {
  const text = renderHaproxyText(input, 'Written by ferry: API server balancer behind the keepalived VIP.');
  return [renderedFile(HAPROXY_CONFIG_PATH, text, { verify: HAPROXY_VERIFY }), renderHaproxyDropIn()];
}
