// cert-expiry: only on nodes that are already control planes (gather.sh's control-plane-certs section), judged at the
// node's own clock. Fixtures: test/certs/fixtures/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeChecks } from '../../src/checks/registry.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import { fixtureFacts, fixtureText } from '../facts/fixtures.ts';
import { nodeCtx } from './context.ts';

const capture = readFileSync(join(import.meta.dirname, '..', 'certs', 'fixtures', 'kubeadm-1.33-capture.txt'), 'utf8');
const check = nodeChecks.find((c) => c.id === 'cert-expiry')!;
const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** The fixture node's gather output with the control-plane-certs section a control plane adds. */
function controlPlane(nodeTime: number, body: string) {
  return parseFacts('cp-1', `${fixtureText('debian12-lab-node')}\n@@ferry control-plane-certs\n${nodeTime}\n${body}\n@@ferry-rc control-plane-certs 0\n`);
}

describe('cert-expiry', () => {
  it('reports nothing on a node that is not a control plane yet', () => {
    expect(fixtureFacts('debian12-lab-node', 'cp-1').controlPlaneCerts).toBeUndefined();
    expect(check.run(fixtureFacts('debian12-lab-node', 'cp-1'), nodeCtx('cp-1'))).toEqual([]);
  });

  it.each([
    ['a year left', '2025-08-24T00:00:00Z', ['pass'], /14 certificates \(kubeadm\), the first to expire is admin\.conf in 360 days/],
    ['20 days left', '2026-07-30T00:00:00Z', Array(11).fill('warn'), /^admin\.conf: expires 2026-08-19T09:03:00Z \(20 days left\)$/],
    ['3 days left', '2026-08-16T00:00:00Z', Array(11).fill('fail'), /^admin\.conf: expires .* \(3 days left\)$/],
  ])('%s → %j', (_name, now, statuses, first) => {
    const findings = check.run(controlPlane(at(now), `@@kubeadm\n${capture}`), nodeCtx('cp-1'));
    expect(findings.map((f) => f.status)).toEqual(statuses);
    expect(findings[0]!.message).toMatch(first);
  });

  it('warns when the output cannot be read', () => {
    const [f] = check.run(controlPlane(at('2026-01-01T00:00:00Z'), '@@kubeadm\nerror execution phase: couldn\'t load the certificate'), nodeCtx('cp-1'));
    expect(f!.status).toBe('warn');
    expect(f!.message).toMatch(/could not read the certificate expiry/);
  });
});
