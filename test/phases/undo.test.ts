// Reset is derived from the install playbook: every install phase names its undo (or why it has none), reset runs
// those undo phases last install phase first, each once, after preflight; planPlaybook refuses an unknown undo.
import { describe, expect, it } from 'vitest';
import { playbookPhases, Playbook } from '../../src/config/playbook.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { readPlaybook } from '../../src/install/playbooks.ts';
import type { AnyPhase } from '../../src/phases/phase.ts';
import { phaseRegistry } from '../../src/phases/registry.ts';
import { planPlaybook } from '../../src/phases/runner.ts';
import { resetOrder, resetPlan } from '../../src/phases/undo.ts';

const fake = (id: string, undo: AnyPhase['undo']) => ({ id, undo });

describe('reset order from the install order', () => {
  it.each<{ name: string; install: ReturnType<typeof fake>[]; want: string[] }>([
    { name: 'reversed', install: [fake('a', 'undo-a'), fake('b', 'undo-b'), fake('c', 'undo-c')], want: ['undo-c', 'undo-b', 'undo-a'] },
    { name: 'phases without undo left out', install: [fake('a', 'undo-a'), fake('check', { none: 'reads only' }), fake('b', 'undo-b')], want: ['undo-b', 'undo-a'] },
    {
      name: 'one undo for several phases runs once, where the last of them was',
      install: [fake('pkgs', 'undo-pkgs'), fake('init', 'undo-kube'), fake('join', 'undo-kube'), fake('cni', 'undo-kube'), fake('addons', 'undo-addons')],
      want: ['undo-addons', 'undo-kube', 'undo-pkgs'],
    },
    { name: 'a phase kept first runs first', install: [fake('pre', { none: 'reads only', first: true }), fake('a', 'undo-a'), fake('b', 'undo-b')], want: ['pre', 'undo-b', 'undo-a'] },
    { name: 'nothing to undo', install: [fake('verify', { none: 'checks only' })], want: [] },
  ])('$name', ({ install, want }) => {
    expect(resetOrder(install)).toEqual(want);
  });

  it('the shipped install playbook gives the reset order that playbooks/reset.yaml kept by hand', async () => {
    const registry = phaseRegistry({ doctorGate: false });
    const { playbook, source } = await readPlaybook('install');
    const plan = resetPlan(planPlaybook(playbookPhases(playbook), registry, source), registry);
    expect(plan.map((p) => p.phase.id)).toEqual([
      'preflight', 'reset-gpu-addons', 'reset-kubeadm', 'reset-kubernetes-packages', 'reset-load-balancer', 'reset-registry-mirrors', 'reset-registry',
      'reset-gpu-driver', 'reset-container-runtime', 'reset-firewalld', 'reset-os-prepare', 'reset-local-repo', 'reset-copy-bundle',
    ]);
  });

  it('a custom install playbook gives its own reset: only the undo of its phases', () => {
    const registry = phaseRegistry({ doctorGate: false });
    const custom = parseYaml('apiVersion: ferry.dev/v1alpha1\nkind: Playbook\nname: lb\nphases: [preflight, copy-bundle, local-repo, load-balancer]\n', 'lb.yaml', Playbook);
    expect(resetPlan(planPlaybook(playbookPhases(custom), registry, 'lb.yaml'), registry).map((p) => p.phase.id)).toEqual(['preflight', 'reset-load-balancer', 'reset-local-repo', 'reset-copy-bundle']);
  });

  it('every phase of the shipped install and add-node playbooks declares its undo, and every undo is a known reset phase', async () => {
    const registry = phaseRegistry();
    for (const command of ['install', 'add-node'] as const) {
      const { playbook } = await readPlaybook(command);
      for (const { id } of playbookPhases(playbook)) {
        const undo = registry.get(id)!.undo;
        if (typeof undo === 'string') expect(registry.get(undo)?.id, `${id} → ${undo}`).toBe(undo);
        else expect(undo.none, id).toMatch(/\w/);
      }
    }
  });

  it('every phase in the registry declares its undo', () => {
    for (const [id, phase] of phaseRegistry()) expect(phase.undo, id).toBeDefined();
  });
});

describe('planPlaybook and undo', () => {
  it('refuses a phase whose undo is no known phase, before anything runs', () => {
    const registry = new Map<string, AnyPhase>(phaseRegistry());
    const install = registry.get('copy-bundle')!;
    registry.set('copy-bundle', { ...install, undo: 'reset-nothing' } as AnyPhase);
    expect(() => planPlaybook([{ id: 'preflight', params: {} }, { id: 'copy-bundle', params: {} }], registry, 'my-install.yaml')).toThrow(
      'my-install.yaml: phases[1]: phase "copy-bundle" names its undo "reset-nothing", which is no known phase',
    );
  });
});
