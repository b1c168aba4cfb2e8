// On a node that is already a control plane: its kubeadm certificates must not be about to expire (warn under 30
// days, fail under 7), judged at the node's own clock. Nodes that are not control planes yet report nothing.
import { judgeCertsOutput } from '../certs/check.ts';
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck } from './types.ts';

const ID = 'cert-expiry';

function certExpiry(facts: Facts): Finding[] {
  const certs = facts.controlPlaneCerts;
  if (!certs) return [];
  let judged;
  try {
    judged = judgeCertsOutput(facts.host, certs.output, new Date(certs.nodeTime * 1000));
  } catch (error) {
    return [hostFinding(ID, facts.host, 'warn', `could not read the certificate expiry: ${(error as Error).message}`, 'run kubeadm certs check-expiration on the node and look at its output')];
  }
  const bad = judged.certificates.filter((c) => c.status !== 'pass');
  if (bad.length === 0) {
    const soonest = judged.certificates.filter((c) => c.daysLeft !== undefined).sort((a, b) => a.daysLeft! - b.daysLeft!)[0];
    return [hostFinding(ID, facts.host, 'pass', `${judged.certificates.length} certificates (${judged.source})${soonest ? `, the first to expire is ${soonest.name} in ${soonest.daysLeft} days` : ''}`)];
  }
  return bad.map((c) => hostFinding(ID, facts.host, c.status, `${c.name}: ${c.message}`, c.remedy));
}

/** The cert-expiry check. */
export const certExpiryCheck: NodeCheck = { id: ID, title: 'control-plane certificates are not about to expire', roles: ['control-plane'], run: certExpiry };
