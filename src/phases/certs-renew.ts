// certs-renew (`ferry certs renew`): on each control plane in turn, when a certificate kubeadm renews is within 30
// days of expiry (or with --force): `kubeadm certs renew all`, the control-plane static pods restarted by moving their
// manifests out of /etc/kubernetes/manifests and back after the kubelet's fileCheckFrequency (20 s; kubeadm's
// "Manual certificate renewal"), a wait until the API answers again, and on the first control plane the admin host's
// copy of admin.conf fetched again (its client certificate was renewed too). CAs are not renewed (kubeadm does not).
import { z } from 'zod';
import { checkHostCerts, type HostCerts } from '../certs/check.ts';
import { sh } from '../hosts/shell.ts';
import type { StateLayout } from '../state/layout.ts';
import { fetchAdminConf, stateLayout } from './kube/admin-state.ts';
import { ADMIN_CONF, controlPlanes, firstControlPlane, MANIFESTS_DIR } from './kube/cluster.ts';
import type { Phase } from './phase.ts';
import { exec, type Step } from './step.ts';

export const CertsRenewParams = z
  .object({
    /** Seconds the manifests stay out of the kubelet's directory (its fileCheckFrequency is 20 s). */
    restartWaitSeconds: z.number().int().min(1).max(300).default(20),
  })
  .strict();
export type CertsRenewParams = z.infer<typeof CertsRenewParams>;

/** Where the manifests wait while the kubelet stops the static pods. */
export const MOVED_MANIFESTS = '/etc/kubernetes/ferry-manifests-moved';

/** What certs-renew sees on a control plane. */
export interface RenewSeen {
  node: string;
  first: boolean;
  /** Certificates kubeadm renews (not CAs) that warn or fail: within 30 days, expired or missing. */
  due: string[];
  force: boolean;
  /** This run renewed them here already. */
  renewed: boolean;
}

/** The `once` key of one node's renewal: the next look sees it done (a forced renewal happens once per run). */
export const renewKey = (node: string) => `certs-renew:${node}`;

/** Certificates (not CAs) that need renewing at the admin host's clock. */
export function dueCertificates(certs: HostCerts): string[] {
  return certs.certificates.filter((c) => c.kind === 'certificate' && !c.externallyManaged && c.status !== 'pass' && c.notAfter !== undefined).map((c) => c.name);
}

/** The restart of the static pods: manifests out, the kubelet's check interval, back in (also after a failed try). */
export function restartStaticPods(waitSeconds: number): Step {
  return exec(sh`set -e
mkdir -p -m 0700 ${MOVED_MANIFESTS}
for f in ${MANIFESTS_DIR}/*.yaml; do [ -e "$f" ] && mv "$f" ${MOVED_MANIFESTS}/; done
sleep ${String(waitSeconds)}
for f in ${MOVED_MANIFESTS}/*.yaml; do [ -e "$f" ] && mv "$f" ${MANIFESTS_DIR}/; done
rmdir ${MOVED_MANIFESTS}`, { timeoutMs: (waitSeconds + 60) * 1000 });
}

/** Bounded wait until the API answers through admin.conf (the endpoint: the VIP). */
export const WAIT_API = sh`for i in $(seq 90); do kubectl --kubeconfig ${ADMIN_CONF} get --raw /readyz >/dev/null 2>&1 && exit 0; sleep 2; done
echo "the API did not answer within 3 minutes of the restart" >&2; exit 1`;

/** The steps: [] when nothing is due (or it was renewed in this run); else renew, restart, wait, admin.conf. */
export function planRenew(seen: RenewSeen, input: { layout: StateLayout; restartWaitSeconds: number }): Step[] {
  if (seen.renewed || (seen.due.length === 0 && !seen.force)) return [];
  return [
    exec(['kubeadm', 'certs', 'renew', 'all'], { timeoutMs: 300_000, once: renewKey(seen.node) }),
    restartStaticPods(input.restartWaitSeconds),
    exec(WAIT_API, { timeoutMs: 240_000 }),
    ...(seen.first ? [fetchAdminConf(input.layout)] : []),
  ];
}

export const certsRenewPhase: Phase<CertsRenewParams, RenewSeen> = {
  id: 'certs-renew',
  title: 'Renew the control planes\u2019 certificates, one at a time',
  params: CertsRenewParams,
  order: 'serial',
  undo: { none: 'renewed certificates are not put back (the old ones expire)' },
  targets: (ctx) => controlPlanes(ctx.inventory),
  async observe(target, ctx) {
    const certs = await checkHostCerts(target.host, ctx.now);
    return {
      node: target.spec.name, first: firstControlPlane(ctx.inventory).name === target.spec.name, due: dueCertificates(certs),
      force: ctx.state.renewForce === true, renewed: ctx.state.memo.has(`step:${renewKey(target.spec.name)}`),
    };
  },
  plan: (seen, { ctx, params }) => planRenew(seen, { layout: stateLayout(ctx), restartWaitSeconds: params.restartWaitSeconds }),
};
