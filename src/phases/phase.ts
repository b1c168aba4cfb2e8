// What an install phase is: a title, the hosts it acts on, a read-only "already done?" test and a run.
// The runner (runner.ts) owns ordering, concurrency, dry-run, journaling and reporting; phases own none of it.
import type { z } from 'zod';
import type { Inventory, InventoryHost } from '../config/inventory.ts';
import type { Recommendation } from '../checks/recommend.ts';
import type { Lock } from '../config/lock.ts';
import type { Host } from '../hosts/host.ts';

/** Values one phase produces and a later one consumes (e.g. a join token), kept for the length of a run. */
export interface ClusterState {
  joinToken?: string;
  certificateKey?: string;
  caCertHashes?: string[];
  /** What doctor's gate in preflight recommended (or the last run's, from <state-dir>/doctor.json); read by chooseEncapsulation. */
  doctorRecommendation?: Recommendation;
  [key: string]: unknown;
}

export interface PhaseContext {
  inventory: Inventory;
  lock?: Lock;
  /** The bundle directory on the admin host. */
  bundleDir?: string;
  state: ClusterState;
  /** Register a value that must never be printed or logged; every host wrapper redacts it from then on. */
  addSecret(value: string): void;
  /** Wall clock, injected. */
  now(): Date;
  /** The admin host's directory for this cluster's secrets and fetched files (kubeadm's admin.conf). */
  stateDir?: string;
  /** The Host of another inventory host, for phases that act on one node through another (the runner sets it). */
  hostFor?: (name: string) => Host;
  /** Doctor check ids whose failure the preflight gate reports as a warning (--allow-failed-check). */
  allowFailedChecks?: readonly string[];
}

export interface PhaseTarget {
  spec: InventoryHost;
  host: Host;
}

export interface Phase<P = Record<string, unknown>> {
  readonly id: string;
  readonly title: string;
  /** Types and checks the playbook's `with:` parameters; errors name the playbook and phase. */
  readonly params?: z.ZodType<P>;
  /** The inventory hosts this phase acts on. */
  targets(ctx: PhaseContext, params: P): InventoryHost[];
  /** `parallel` (bounded by the runner) or `serial` (one host at a time, in inventory order). */
  readonly order?: 'parallel' | 'serial';
  /** Acts for the whole cluster (its files name every node, or it checks the cluster): a host limit does not narrow it. */
  readonly wholeCluster?: boolean;
  /** At most this many hosts at once in a parallel phase (below the run's own bound), e.g. a `with: {batch}`. */
  concurrency?(params: P): number;
  /** Checks the run's inputs before the first phase of the run starts (a refusal that must change nothing). */
  check?(ctx: PhaseContext, params: P): void | Promise<void>;
  /** Read-only check: true when the host already is as run() would leave it. */
  isDone(target: PhaseTarget, ctx: PhaseContext, params: P): Promise<boolean>;
  run(target: PhaseTarget, ctx: PhaseContext, params: P): Promise<void>;
  /** Optional cluster-wide step, once every host's run or isDone succeeded (preflight's doctor gate); may throw PhaseError. */
  afterAll?(targets: readonly PhaseTarget[], ctx: PhaseContext, params: P): Promise<void>;
}

/** Erases a phase's parameter type so phases of different parameters fit one registry. */
export type AnyPhase = Phase<any>;
