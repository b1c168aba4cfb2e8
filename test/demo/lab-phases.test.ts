import { describe, expect, it } from 'vitest';
import { playbookPhases } from '../../src/config/playbook.ts';
import { UserError } from '../../src/errors.ts';
import { labPhasePlan } from '../../src/demo/lab-phases.ts';
import { readPlaybook } from '../../src/install/playbooks.ts';

// The node-level phases, and the whole install as the shipped playbooks/install.yaml lists it (read, so a phase added
// there and not classified for the demo fails here, not in the demo).
const TODAY = ['preflight', 'copy-bundle', 'local-repo', 'os-prepare', 'firewalld', 'container-runtime', 'registry', 'registry-mirrors', 'load-balancer'];
const FULL = playbookPhases((await readPlaybook('install')).playbook).map((p) => p.id);

describe('labPhasePlan', () => {
  it('runs every node-level phase and skips none', () => {
    expect(labPhasePlan(TODAY, 'install.yaml')).toEqual({ run: TODAY, skip: [] });
  });

  it('skips the Kubernetes and GPU phases of the full install, each with a reason, keeping playbook order', () => {
    const plan = labPhasePlan(FULL, 'install.yaml');
    expect(plan.run).toEqual(['preflight', 'copy-bundle', 'local-repo', 'os-prepare', 'firewalld', 'container-runtime', 'registry', 'registry-mirrors', 'load-balancer']);
    expect(plan.skip.map((s) => s.id)).toEqual(['gpu-driver', 'kubernetes-packages', 'kubeadm-init', 'join-control-planes', 'join-workers', 'cni', 'gpu-addons', 'verify']);
    expect(plan.skip.find((s) => s.id === 'kubeadm-init')!.reason).toMatch(/kubelet cannot run/);
    expect(plan.skip.find((s) => s.id === 'gpu-driver')!.reason).toMatch(/no NVIDIA GPU/);
  });

  it('fails loudly, naming the playbook and the ids, for a phase nobody classified', () => {
    expect(() => labPhasePlan([...TODAY, 'etcd-backup', 'kubeadm-upgrade'], 'playbooks/install.yaml')).toThrow(UserError);
    expect(() => labPhasePlan([...TODAY, 'etcd-backup'], 'playbooks/install.yaml')).toThrow(/phase\(s\) etcd-backup of playbooks\/install.yaml/);
  });
});
