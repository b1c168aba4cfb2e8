// Where ferry keeps a cluster's state on the admin host: every path, named once (as BundleLayout does for the
// bundle). The directory is `.ferry/<cluster>` beside the inventory unless --state-dir says otherwise.
import { dirname, join, resolve } from 'node:path';

export class StateLayout {
  /** The state directory itself (absolute). */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The layout for an inventory file and its cluster name, or the directory the user named. */
  static forInventory(inventoryPath: string, clusterName: string, stateDir?: string): StateLayout {
    return new StateLayout(stateDir ?? join(dirname(inventoryPath), '.ferry', clusterName));
  }

  /** Held while a run changes the cluster (install, reset, add-node). */
  get installLock(): string { return join(this.dir, 'install.lock'); }
  /** One JSON line per command run on any host. */
  get audit(): string { return join(this.dir, 'audit.jsonl'); }
  /** Doctor's recommendation of the last gated run. */
  get doctorRecommendation(): string { return join(this.dir, 'doctor.json'); }
  /** The VRRP password keepalived's instances share. */
  get vrrpPassword(): string { return join(this.dir, 'vrrp-auth-pass'); }
  /** kubeadm's bootstrap token. */
  get bootstrapToken(): string { return join(this.dir, 'bootstrap-token'); }
  /** kubeadm's certificate key (encrypts the uploaded control-plane certificates). */
  get certificateKey(): string { return join(this.dir, 'certificate-key'); }
  /** When the control-plane certificates were last uploaded (kubeadm deletes them two hours later). */
  get certsUploadedAt(): string { return join(this.dir, 'kubeadm-certs-uploaded-at'); }
  /** The user's copy of the cluster-admin kubeconfig. */
  get adminConf(): string { return join(this.dir, 'admin.conf'); }
  /** The local registry's CA (ca.crt, ca.key). */
  get registryCaDir(): string { return join(this.dir, 'registry-ca'); }
  /** Server certificates issued by that CA, one directory per replica host. */
  get registryIssuedDir(): string { return join(this.registryCaDir, 'issued'); }
  /** etcd snapshots `ferry upgrade` takes before it changes anything (with `<file>.sha256` beside each). */
  get etcdSnapshotsDir(): string { return join(this.dir, 'etcd-snapshots'); }
  /** `ferry registry deploy`'s memory of the bundle it served. */
  get registryState(): string { return join(this.dir, 'registry.json'); }
}
