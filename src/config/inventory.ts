// Schema of cluster.yaml, the inventory read by doctor and install: hosts, SSH, network, Kubernetes.
import { z } from 'zod';

export const Role = z.enum(['control-plane', 'worker', 'gpu', 'lb', 'registry']);
export type Role = z.infer<typeof Role>;

const hostname = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, -)');

export const SshSettings = z
  .object({
    user: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** Private key file; without it the SSH agent ($SSH_AUTH_SOCK) is used. */
    identity: z.string().optional(),
  })
  .strict();

export const InventoryHost = z
  .object({
    name: hostname,
    address: z.string().min(1),
    roles: z.array(Role).min(1),
    ssh: SshSettings.optional(),
  })
  .strict();
export type InventoryHost = z.infer<typeof InventoryHost>;

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 10.244.0.0/16');

export const Inventory = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('Cluster'),
    name: hostname,
    ssh: SshSettings.extend({
      /** known_hosts file used for strict host-key checking; default ~/.ssh/known_hosts. */
      knownHosts: z.string().optional(),
      /** Jump host, as user@host:port. */
      bastion: z.string().optional(),
      /** Run commands through `sudo -n` when the user is not root. */
      sudo: z.boolean().default(false),
      /** Connections at once. */
      concurrency: z.number().int().min(1).max(500).default(30),
      connectTimeoutMs: z.number().int().min(100).default(10_000),
    })
      .strict()
      .default({ sudo: false, concurrency: 30, connectTimeoutMs: 10_000 }),
    network: z
      .object({
        controlPlaneEndpoint: z.string().regex(/^[^:]+:\d+$/, 'must be HOST:PORT (the VIP, never a node)'),
        podCidr: cidr.default('10.244.0.0/16'),
        serviceCidr: cidr.default('10.96.0.0/12'),
        cni: z.enum(['calico', 'cilium', 'flannel']).default('calico'),
        encapsulation: z.enum(['auto', 'ipip', 'vxlan']).default('auto'),
        /** keepalived + HAProxy on control planes / lb hosts, or a node-local balancer on every node. */
        loadBalancer: z.enum(['vip', 'node-local']).default('vip'),
      })
      .strict(),
    kubernetes: z
      .object({
        version: z.string().optional(),
        /** Lock file written by `ferry resolve --out`; its versions win over `version`. */
        lock: z.string().optional(),
      })
      .strict()
      .default({}),
    hosts: z.array(InventoryHost).min(1),
  })
  .strict()
  .superRefine((inv, ctx) => {
    const seen = new Map<string, number>();
    inv.hosts.forEach((h, i) => {
      for (const key of [`name:${h.name}`, `address:${h.address}`]) {
        const first = seen.get(key);
        if (first !== undefined)
          ctx.addIssue({ code: 'custom', path: ['hosts', i, key.split(':')[0]!], message: `duplicates hosts[${first}]` });
        else seen.set(key, i);
      }
    });
    if (!inv.hosts.some((h) => h.roles.includes('control-plane')))
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'needs at least one host with role control-plane' });
  });
export type Inventory = z.infer<typeof Inventory>;
