// keepalived: the API VIP moves between the balancer hosts by unicast VRRP (no multicast needed), following a
// health check that asks, through the local HAProxy, whether an API server is ready. The VRRP password is a
// secret: it is listed in the rendered file's `secrets` so callers redact it.
import { UserError } from '../errors.ts';
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';

export interface KeepalivedInput {
  /** This host's name (router_id) and address (unicast source). */
  self: { name: string; address: string };
  /** Every balancer host in priority order (self included): the first holds the VIP while it is healthy. */
  peers: readonly { name: string; address: string }[];
  /** Interface that carries the VIP, e.g. eth0. */
  interface: string;
  /** The VIP, an IPv4 address; with `/prefix` when not /32. */
  vip: string;
  /** VRRP router id, 1-255, unique per L2 segment. */
  virtualRouterId: number;
  /** VRRP PASS authentication, 1-8 characters (VRRPv2 carries at most 8). */
  authPass: string;
  /** Port HAProxy serves on (the port of controlPlaneEndpoint). */
  apiPort: number;
  /** Where the check script is written. */
  checkScriptPath?: string;
  /** Cluster CA used by the check to verify the API server through HAProxy. */
  caFile?: string;
}

export const KEEPALIVED_CONFIG_PATH = '/etc/keepalived/keepalived.conf';
export const KEEPALIVED_CHECK_PATH = '/etc/keepalived/check-apiserver.sh';
const CHECK_WEIGHT = 100;

function checkInput(input: KeepalivedInput): void {
  const token = /^[A-Za-z0-9_.:\/-]+$/;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
  if (!ipv4.test(input.vip.split('/')[0]!) || !/^[^/]+(\/([0-9]|[12][0-9]|3[0-2]))?$/.test(input.vip))
    throw new UserError(`the VIP must be an IPv4 address, got ${JSON.stringify(input.vip)}`);
  if (!Number.isInteger(input.virtualRouterId) || input.virtualRouterId < 1 || input.virtualRouterId > 255)
    throw new UserError(`virtualRouterId must be 1-255, got ${input.virtualRouterId}`);
  if (!/^[\x21-\x7e]{1,8}$/.test(input.authPass) || /["\\]/.test(input.authPass))
    throw new UserError('the VRRP password must be 1-8 printable characters without quotes, spaces or backslashes');
  if (input.peers.length === 0 || input.peers.length > CHECK_WEIGHT - 1)
    throw new UserError(`keepalived needs 1-${CHECK_WEIGHT - 1} balancer hosts, got ${input.peers.length}`);
  if (!input.peers.some((p) => p.address === input.self.address && p.name === input.self.name))
    throw new UserError(`${input.self.name} must be one of the balancer hosts`);
  for (const v of [input.interface, input.self.name, input.caFile ?? 'x', input.checkScriptPath ?? 'x', ...input.peers.flatMap((p) => [p.name, p.address])])
    if (!token.test(v)) throw new UserError(`bad keepalived value ${JSON.stringify(v)}`);
  if (input.peers.some((p) => p.address === input.vip.split('/')[0])) throw new UserError('the VIP must not be a node address');
}

/**
 * Priorities: host i of n gets 200 - i; a failing check subtracts 100. So any healthy host outranks every
 * unhealthy one, and among equals the order of `peers` decides.
 */
export function keepalivedPriority(peers: KeepalivedInput['peers'], name: string): number {
  return 200 - peers.findIndex((p) => p.name === name);
}

/** keepalived.conf for one balancer host and the health-check script it tracks. */
export function renderKeepalived(input: KeepalivedInput): RenderedFile[] {
  checkInput(input);
  const script = input.checkScriptPath ?? KEEPALIVED_CHECK_PATH;
  const vip = input.vip.includes('/') ? input.vip : `${input.vip}/32`;
  const others = input.peers.filter((p) => p.name !== input.self.name);
  const conf = [
    '# Written by ferry: the API VIP, moved by unicast VRRP, tracking the API server through HAProxy.',
    'global_defs {',
    `    router_id ${input.self.name}`,
    '    enable_script_security',
    '    script_user root',
    '}',
    '',
    'vrrp_script chk_apiserver {',
    `    script "${script}"`,
    '    interval 3',
    '    timeout 2',
    '    fall 2',
    '    rise 2',
    `    weight -${CHECK_WEIGHT}`,
    '}',
    '',
    'vrrp_instance ferry_api {',
    '    state BACKUP',
    `    interface ${input.interface}`,
    `    virtual_router_id ${input.virtualRouterId}`,
    `    priority ${keepalivedPriority(input.peers, input.self.name)}`,
    '    advert_int 1',
    // A lone balancer has no peers: keepalived rejects an empty unicast_peer block, and needs no unicast then.
    ...(others.length > 0 ? [`    unicast_src_ip ${input.self.address}`, '    unicast_peer {', ...others.map((p) => `        ${p.address}`), '    }'] : []),
    '    authentication {',
    '        auth_type PASS',
    `        auth_pass ${input.authPass}`,
    '    }',
    '    virtual_ipaddress {',
    `        ${vip} dev ${input.interface}`,
    '    }',
    '    track_script {',
    '        chk_apiserver',
    '    }',
    '}',
  ];
  const vipHost = input.vip.split('/')[0]!;
  const target = `${vipHost}:${input.apiPort}`;
  const ca = input.caFile ?? '/etc/kubernetes/pki/ca.crt';
  const check = [
    '#!/bin/sh',
    '# Written by ferry: healthy when the local HAProxy answers and an API server behind it is ready.',
    '# The certificate is verified for the VIP name while the connection goes to 127.0.0.1.',
    `exec curl --silent --fail --output /dev/null --max-time 2 --cacert '${ca}' --connect-to '${target}:127.0.0.1:${input.apiPort}' 'https://${target}/readyz'`,
  ];
  return [
    renderedFile(KEEPALIVED_CONFIG_PATH, `${conf.join('\n')}\n`, { secrets: [input.authPass], verify: ['keepalived', '-t', '-l', '-f', STAGED_FILE] }),
    renderedFile(script, `${check.join('\n')}\n`, { mode: 0o755 }),
  ];
}
