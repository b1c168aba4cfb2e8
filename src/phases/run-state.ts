// What one run of a playbook carries from phase to phase, typed: node facts read once, doctor's recommendation,
// kubeadm's join material, the VRRP password, warnings and copy statistics. Made by the orchestrator
// (src/install/run.ts), read by phases and by the CLI's report.
import type { BundleManifest } from '../bundle/manifest.ts';
import type { Recommendation } from '../checks/recommend.ts';
import type { NodeFacts } from '../facts/node.ts';

/** Files, bytes and time of one node's bundle copy. */
export interface CopyStats {
  files: number;
  bytes: number;
  ms: number;
}

/** kubeadm's join material for this run. */
export interface JoinMaterial {
  /** The bootstrap token `<id>.<secret>` (the secret half is registered as a secret). */
  token: string;
  certificateKey: string;
  /** The token's TTL when this run created it (add-node: one hour); absent: kubeadm's default. */
  ttl?: string;
}

export interface RunState {
  /** Each node's facts (gather.sh, doctor's too), read at most once per run: by preflight, or on first use. */
  facts: Map<string, NodeFacts>;
  /** What doctor's gate in preflight recommended (or the last run's, from the state directory). */
  doctorRecommendation?: Recommendation;
  join?: JoinMaterial;
  /** sha256 pins of the cluster CA's public key, read from the first control plane. */
  caCertHashes?: string[];
  /** keepalived's shared password (VIP mode). */
  vrrpPassword?: string;
  /** Printed at the end of the run. */
  warnings: string[];
  /** Per node: what copy-bundle moved. */
  copied: Map<string, CopyStats>;
  /** The bundle's manifest, read once. */
  bundleManifest?: BundleManifest;
  /** `ferry certs renew --force`: renew even certificates that are not yet within 30 days of expiry. */
  renewForce?: boolean;
  /** Values computed once per run and shared by every host of a phase (keyed by the phase that made them). */
  memo: Map<string, Promise<unknown>>;
}

/** A fresh state for a run. */
export function newRunState(init: Partial<RunState> = {}): RunState {
  return { facts: new Map(), warnings: [], copied: new Map(), memo: new Map(), ...init };
}

/** A value made once per run under `key` (a failed attempt is forgotten, so the next host tries again). */
export function memo<T>(state: RunState, key: string, make: () => Promise<T>): Promise<T> {
  const known = state.memo.get(key) as Promise<T> | undefined;
  if (known) return known;
  const made = make();
  state.memo.set(key, made);
  made.catch(() => state.memo.delete(key));
  return made;
}
