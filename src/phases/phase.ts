// What an install phase is: a title, the hosts it acts on, and observe → plan: `observe` reads a node (and the
// admin host) and returns what it saw; `plan` turns that into steps (step.ts), a pure function, where an empty plan
// means the node already is as the phase leaves it. The runner (runner.ts) applies the steps, owns ordering,
// concurrency, dry-run, journaling and reporting; phases own none of it.
import type { z } from 'zod';
import type { Inventory, InventoryHost } from '../config/inventory.ts';
import type { Lock } from '../config/lock.ts';
import type { Host } from '../hosts/host.ts';
import type { StateLayout } from '../state/layout.ts';
import type { RunState } from './run-state.ts';
import type { Step } from './step.ts';

export interface PhaseContext {
  inventory: Inventory;
  lock?: Lock;
  /** The bundle directory on the admin host. */
  bundleDir?: string;
  state: RunState;
  /** The admin host (ferry's own machine) as a Host: audited, and recording in a dry run. Steps reach it with `on: 'admin'`. */
  admin: Host;
  /** Register a value that must never be printed or logged; every host wrapper redacts it from then on. */
  addSecret(value: string): void;
  /** Wall clock, injected. */
  now(): Date;
  /** Every admin-side path of this cluster's state (secrets, admin.conf, the registry CA). */
  layout?: StateLayout;
  /** The Host of another inventory host, for phases that act on one node through another (the runner sets it). */
  hostFor?: (name: string) => Host;
  /** Doctor check ids whose failure the preflight gate reports as a warning (--allow-failed-check). */
  allowFailedChecks?: readonly string[];
  /** A dry run: the hosts record instead of acting, so what earlier phases would place is not on the nodes. */
  dryRun?: boolean;
}

export interface PhaseTarget {
  spec: InventoryHost;
  host: Host;
}

/**
 * How a phase's afterAll applies its steps: through the runner, as a plan's steps are (apply.ts, with the run's
 * dry-run and task recording); `on` is the node the steps act on by default (none: the admin host).
 */
export type ApplyStage = (steps: readonly Step[], on?: PhaseTarget) => Promise<void>;

/** What observe sees: the node and the admin host, both read-only (a write through them is refused). */
export interface ObserveTarget {
  spec: InventoryHost;
  host: Host;
  admin: Host;
}

/** What plan is given besides the observation: the host it plans for, the run's inputs and the parameters. */
export interface PlanInput<P> {
  spec: InventoryHost;
  ctx: PhaseContext;
  params: P;
}

/** An install phase: observe (reads only) → plan (pure) → the runner applies. */
export interface Phase<P = Record<string, unknown>, O = unknown> {
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
  concurrency?(params: P, ctx: PhaseContext): number;
  /** Checks the run's inputs before the first phase of the run starts (a refusal that must change nothing). */
  check?(ctx: PhaseContext, params: P): void | Promise<void>;
  /** Reads the node and the admin host (both read-only) and returns what it saw. */
  observe(target: ObserveTarget, ctx: PhaseContext, params: P): Promise<O>;
  /** The steps that bring the node from what was observed to what the phase leaves; [] when it already is. */
  plan(observation: O, input: PlanInput<P>): Step[];
  /**
   * How many observe → plan → apply rounds a host gets before its plan must be empty (default 3). The round after
   * an apply is what proves the apply worked; a phase whose later steps depend on what earlier ones made (a module
   * that creates a sysctl) converges in one more.
   */
  readonly rounds?: number;
  /**
   * A stage once for the whole phase, after every host converged (none failed): work that needs all the phase's
   * hosts at once, which no one host's observe → plan can see. It exists for two such stages: preflight's doctor
   * gate (doctor's checks across the nodes and its pair probes: doctor-gate.ts) and copy-bundle's seed stage (the
   * waiting nodes fetch from one server on the seed: copy-bundle.ts). It changes things only by handing steps to
   * `apply`, the runner's applier, so dry-run, audit and task recording hold as for a plan; it may throw a
   * PhaseError naming hosts.
   */
  afterAll?(targets: readonly PhaseTarget[], ctx: PhaseContext, params: P, apply: ApplyStage): Promise<void>;
  /**
   * The reset phase that undoes this one, or why there is nothing to undo: `ferry reset` runs the undo phases of the
   * install playbook in reverse order (undo.ts). `first`: reset runs this phase itself first (preflight reaches every
   * node and reads its facts).
   */
  readonly undo: string | { none: string; first?: true };
}

/** Erases a phase's parameter and observation types so phases of different parameters fit one registry. */
export type AnyPhase = Phase<any, any>;
