// kubeadm-init: the first control plane. The init config (bootstrap token and certificate key made on the admin
// host, kept in the state directory) is rendered and placed owner-only, then `kubeadm init --upload-certs` makes
// the cluster; the upload time is recorded (the certs live two hours) and admin.conf is fetched for the user.
import { existsSync } from 'node:fs';
import { sh } from '../hosts/shell.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmInit } from '../render/kubeadm.ts';
import { adminConfCopy, saveAdminConf, writeUploadTime } from './kube/admin-state.ts';
import { ADMIN_CONF, firstControlPlane, printed, joinCredentials, kubeadmCluster, kubeadmNode, kubectl } from './kube/cluster.ts';
import { placeFiles } from './place-files.ts';
import type { Phase } from './phase.ts';

export const KUBEADM_INIT_ARGV = ['kubeadm', 'init', '--config', KUBEADM_CONFIG_PATH, '--upload-certs'];

/** The read-only probe: admin.conf is there and the API server says it is ready. */
export const API_READY = sh`test -e ${ADMIN_CONF} && ${kubectl('get', '--raw', '/readyz')}`;

export const kubeadmInitPhase: Phase = {
  id: 'kubeadm-init',
  title: 'kubeadm init on the first control plane',
  undo: 'reset-kubeadm',
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async isDone(target, ctx) {
    const r = await target.host.exec(API_READY, { readOnly: true, allowFailure: true, timeoutMs: 30_000 });
    return r.exitCode === 0 && r.stdout.trim() === 'ok' && existsSync(adminConfCopy(ctx));
  },
  async run(target, ctx) {
    const { host, spec } = target;
    const { token, certificateKey } = joinCredentials(ctx);
    const config = renderKubeadmInit({ cluster: kubeadmCluster(ctx), node: kubeadmNode(spec), bootstrapToken: token, certificateKey });
    const ready = await host.exec(API_READY, { readOnly: true, allowFailure: true, timeoutMs: 30_000 });
    // Initialised before (only the admin host's copy is missing): kubeadm init refuses a second run anyway.
    if (ready.exitCode !== 0 || ready.stdout.trim() !== 'ok') {
      await placeFiles(host, [config]);
      const at = ctx.now();
      const init = await host.exec(KUBEADM_INIT_ARGV, { secrets: config.secrets, timeoutMs: 600_000 });
      if (printed(init)) await writeUploadTime(ctx, at);
    }
    // A step after the change: not read-only, so a dry run lists it instead of running it.
    const conf = await host.exec(['cat', ADMIN_CONF]);
    if (printed(conf)) await saveAdminConf(ctx, conf.stdout);
  },
};
