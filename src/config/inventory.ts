// Schema of cluster.yaml, the inventory read by doctor and install: hosts, SSH, network, Kubernetes. The shape is
// here; what it must mean (networks, VIP, control-plane count) is inventory-rules.ts, run by the same parse.
import { isIP } from 'node:net';
import { z } from 'zod';
import { inventoryIssues } from './inventory-rules.ts';
import { parseCidr } from './net.ts';

export const Role = z.enum(['control-plane', 'worker', 'gpu', 'lb', 'registry']);
export type Role = z.infer<typeof Role>;

/** A node name: a lowercase RFC 1123 label (also the site file's node names). */
export const hostname = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, -)');

/** A login name as useradd accepts it (shadow-utils' default pattern, at most 32 characters). */
const userName = z.string().regex(/^[a-z_][a-z0-9_-]{0,30}\$?$/, 'must be a Linux user name (a-z, 0-9, _, -; starts with a letter or _)');

const ipAddress = z.string().refine((a) => isIP(a) !== 0, { message: 'must be an IP address such as 10.20.0.11 (four numbers 0-255) or fd00::11' });

/** Kubernetes MAJOR.MINOR or MAJOR.MINOR.PATCH, as `ferry resolve --k8s` takes it. */
export const KubernetesVersion = z.string().regex(/^1\.\d{1,3}(\.\d{1,3})?$/, 'must be a Kubernetes version such as 1.33 or 1.33.2');

export const SshSettings = z
  .object({
    user: userName.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** Private key file; without it the SSH agent ($SSH_AUTH_SOCK) is used. */
    identity: z.string().min(1).optional(),
  })
  .strict();

/**
 * What install does about SELinux on EL nodes: `permissive` (kubeadm's documented advice, "Installing kubeadm":
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/ , and the default) sets it
 * permissive now and in /etc/selinux/config, and says so; `enforcing` keeps the node as it is and installs
 * container-selinux from the bundle; `leave` changes nothing (doctor warns when the node is enforcing).
 */
export const SelinuxPolicy = z.enum(['permissive', 'enforcing', 'leave']);
export type SelinuxPolicy = z.infer<typeof SelinuxPolicy>;

export const InventoryHost = z
  .object({
    name: hostname,
    address: ipAddress,
    roles: z.array(Role).min(1),
    ssh: SshSettings.optional(),
    /** This host's SELinux policy, over the cluster's `selinux`. */
    selinux: SelinuxPolicy.optional(),
    /** Rack (or any group of nodes behind one switch): `ferry doctor --pairs rack` probes every pair within it. */
    rack: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/, 'must be a short name (letters, digits, -, _, .)').optional(),
  })
  .strict();
export type InventoryHost = z.infer<typeof InventoryHost>;

const cidr = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `${text}: ${parsed.error}` });
});

export const Inventory = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('Cluster'),
    name: hostname,
    ssh: SshSettings.extend({
      /** known_hosts file used for strict host-key checking; default ~/.ssh/known_hosts. */
      knownHosts: z.string().min(1).optional(),
      /** Jump host, as user@host:port. */
      bastion: z.string().optional(),
      /** Run commands through `sudo -n` when the user is not root. */
      sudo: z.boolean().default(false),
      /** Connections at once (50: the measurement behind it is at DEFAULT_HOST_CONCURRENCY, src/hosts/pool.ts). */
      concurrency: z.number().int().min(1).max(500).default(50),
      connectTimeoutMs: z.number().int().min(100).default(10_000),
    })
      .strict()
      .default({ sudo: false, concurrency: 50, connectTimeoutMs: 10_000 }),
    network: z
      .object({
        controlPlaneEndpoint: z.string().regex(/^[^:\s]+:\d{1,6}$/, 'must be HOST:PORT (the VIP, never a node)'),
        podCidr: cidr.default('10.244.0.0/16'),
        serviceCidr: cidr.default('10.96.0.0/12'),
        /** The nodes' own subnet: every address and (loadBalancer vip) the VIP must be in it, pods and services not. */
        nodeCidr: cidr.optional(),
        cni: z.enum(['calico', 'cilium', 'flannel']).default('calico'),
        encapsulation: z.enum(['auto', 'ipip', 'vxlan']).default('auto'),
        /** keepalived + HAProxy on control planes / lb hosts, or a node-local balancer on every node. */
        loadBalancer: z.enum(['vip', 'node-local']).default('vip'),
      })
      .strict(),
    kubernetes: z
      .object({
        version: KubernetesVersion.optional(),
        /** Lock file written by `ferry resolve --out`; its versions win over `version`. */
        lock: z.string().min(1).optional(),
        /** Run 2 or 4 control planes anyway (etcd tolerates no more failures than with one fewer). */
        allowEvenControlPlanes: z.boolean().optional(),
      })
      .strict()
      .default({}),
    /** SELinux on EL nodes (SelinuxPolicy); a host's own `selinux` wins. */
    selinux: SelinuxPolicy.default('permissive'),
    /** Day two (`ferry upgrade`, docs/day-two.md): how many workers are drained at once, and whether ferry may reboot a
     * node itself (a GPU node whose driver changes needs one); by default it stops and asks the operator. */
    upgrade: z
      .object({
        maxUnavailableWorkers: z.number().int().min(1).default(1),
        allowReboot: z.boolean().default(false),
        /** How long one `kubectl drain` may wait for evictions (a PodDisruptionBudget that allows none stops it). */
        drainTimeoutSeconds: z.number().int().min(1).default(300),
      })
      .strict()
      .default({ maxUnavailableWorkers: 1, allowReboot: false, drainTimeoutSeconds: 300 }),
    hosts: z.array(InventoryHost).min(1),
  })
  .strict()
  .superRefine((inv, ctx) => {
    for (const issue of inventoryIssues(inv)) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  });
export type Inventory = z.infer<typeof Inventory>;

/** The SELinux policy for one host: its own, else the cluster's (default permissive). */
export function selinuxPolicyOf(inventory: Pick<Inventory, 'selinux' | 'hosts'>, host: string): SelinuxPolicy {
  return inventory.hosts.find((h) => h.name === host)?.selinux ?? inventory.selinux ?? 'permissive';
}
