// Applies a phase's planned steps, in order, through the hosts the runner gives: the node's and the admin host's,
// both already audited and, in a dry run, recording instead of acting. This is the only place steps take effect.
import { InternalError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { parseInstalled } from './os/pick.ts';
import { installedListPath } from './os/family.ts';
import { parseList } from './packages.ts';
import { placeFiles } from './place-files.ts';
import { memo, type RunState } from './run-state.ts';
import type { Step, StepWhere } from './step.ts';

export interface ApplyTarget {
  node: Host;
  admin: Host;
  state: RunState;
  addSecret(value: string): void;
  /** Set in a dry run: a task is recorded with this instead of run. */
  recordTask?: (what: string) => void;
  /** Another inventory host's Host, for steps `on: {host}`. */
  hostFor?: (name: string) => Host;
  /** A dry run: the hosts record, and tasks (which act by themselves) are left out. */
  dryRun?: boolean;
}

async function installRecorded(node: Host, step: Extract<Step, { kind: 'packages' }>): Promise<void> {
  const list = async () => parseInstalled((await node.exec(step.listInstalled, { readOnly: true })).stdout);
  const before = await list();
  await node.exec(step.refresh.argv, step.refresh.env ? { env: step.refresh.env } : {});
  await node.exec(step.install.argv, step.install.env ? { env: step.install.env } : {});
  const added = [...(await list())].filter((p) => !before.has(p));
  const path = installedListPath(step.phase);
  const old = await node.exec(['cat', path], { readOnly: true, allowFailure: true });
  const all = [...new Set([...parseList(old.exitCode === 0 ? old.stdout : ''), ...added])].sort();
  await node.writeFile(path, `${all.join('\n')}\n`);
}

/** Applies `steps` in order; the first failure stops the rest and is thrown. */
export async function applySteps(steps: readonly Step[], t: ApplyTarget): Promise<void> {
  const on = (s: { on?: StepWhere }): Host => {
    if (s.on === 'admin') return t.admin;
    if (typeof s.on !== 'object') return t.node;
    if (!t.hostFor) throw new InternalError(`a step on ${s.on.host} but no hostFor to reach it`);
    return t.hostFor(s.on.host);
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'exec': {
        const run = () => on(step).exec(step.command, {
          ...(step.env ? { env: step.env } : {}), ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
          ...(step.timeoutMs ? { timeoutMs: step.timeoutMs } : {}), ...(step.secrets ? { secrets: step.secrets } : {}),
          ...(step.allowFailure ? { allowFailure: true } : {}),
        });
        await (step.once ? memo(t.state, `step:${step.once}`, run) : run());
        break;
      }
      case 'place':
        await placeFiles(on(step), [step.file]);
        break;
      case 'write':
        await on(step).writeFile(step.path, step.content, { mode: step.mode });
        break;
      case 'upload':
        await t.node.upload(step.from, step.to, step.mode === undefined ? {} : { mode: step.mode });
        break;
      case 'fetch': {
        const r = await t.node.exec(['cat', '--', step.from]);
        await t.admin.writeFile(step.to, r.stdout, { mode: step.mode });
        break;
      }
      case 'packages':
        await installRecorded(t.node, step);
        break;
      case 'secret':
        t.addSecret(step.value);
        break;
      case 'warn':
        // A plan repeats its warnings on every look; the run prints each once.
        if (!t.state.warnings.includes(step.message)) t.state.warnings.push(step.message);
        break;
      case 'task':
        if (t.dryRun) t.recordTask?.(step.what);
        else await step.run({ node: t.node, admin: t.admin });
        break;
      default:
        throw new InternalError(`unknown step ${(step as { kind: string }).kind}`);
    }
  }
}
