// Builds plans and node contexts for check tests (the defaults doctor uses without inventory or lock).
import type { NodeContext, Plan } from '../../src/checks/types.ts';
import type { Role } from '../../src/config/inventory.ts';
import { planFrom } from '../../src/doctor/plan.ts';

export function testPlan(overrides: Partial<Plan> = {}): Plan {
  return { ...planFrom(undefined, undefined, undefined), controlPlaneEndpoint: '10.0.0.100:6443', ...overrides };
}

export function nodeCtx(name: string, roles: Role[] = ['control-plane'], plan: Plan = testPlan(), address = '10.0.0.21'): NodeContext {
  return { name, address, roles, plan };
}
